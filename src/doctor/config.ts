/** The configuration: does it load, is the shared token strong, is an exposed gateway protected. */
import { isExposedBind } from "../config/index.js";
import { autoApprovesAdmin } from "../policy/scope-findings.js";
import type { Check, Finding } from "./types.js";

/** Shortest shared token doctor accepts without a finding (a generated one has 43 characters). */
export const MIN_TOKEN_LENGTH = 32;

export const configCheck: Check = {
  id: "config",
  title: "the config file loads and validates",
  run(facts) {
    if (facts.config.ok) return [];
    return [
      {
        id: "config-invalid",
        severity: "error",
        subject: facts.config.path,
        message: `${facts.config.message} (${facts.config.code}); the gateway will not start with it.`,
        fix: `edit ${facts.config.path} as the message says (doctor never rewrites an invalid config file)`,
      },
    ];
  },
};

export const authTokenCheck: Check = {
  id: "auth-token",
  title: "token mode has a strong shared token, from one source",
  run(facts) {
    if (!facts.config.ok) return { skipped: "the config file is invalid" };
    const { config, fileToken } = facts.config;
    const { auth } = config.gateway;
    if (auth.mode !== "token") return [];
    const out: Finding[] = [];
    const source = config.sources["gateway.auth.token"];
    if (auth.token === undefined) {
      out.push({
        id: "auth-token-missing",
        severity: "warn",
        subject: "gateway.auth.token",
        message:
          "gateway.auth.mode is token but no token is set in the config file or GATEHOUSE_GATEWAY_TOKEN; " +
          "no client can authenticate until one exists (the gateway generates one when it starts).",
        fix: `gatehouse doctor --fix (generates a 43-character token into ${config.configPath})`,
        repair: { kind: "generate-token", configPath: config.configPath },
      });
      return out;
    }
    if (auth.token.length < MIN_TOKEN_LENGTH) {
      const exposed = isExposedBind(config.gateway);
      out.push({
        id: "auth-token-weak",
        severity: exposed ? "error" : "warn",
        subject: "gateway.auth.token",
        message:
          `the shared token (from ${source === "env" ? "GATEHOUSE_GATEWAY_TOKEN" : config.configPath}) has ` +
          `${auth.token.length} characters, fewer than ${MIN_TOKEN_LENGTH}` +
          (exposed ? ", and the gateway is reachable from other machines." : "."),
        fix:
          source === "env"
            ? "set GATEHOUSE_GATEWAY_TOKEN to a long random value (e.g. openssl rand -base64 32), then give clients the new token"
            : `remove gateway.auth.token from ${config.configPath} and run gatehouse doctor --fix to generate a strong one ` +
              "(or set your own of 32+ random characters), then give clients the new token",
      });
    }
    if (source === "env" && fileToken !== undefined && fileToken !== auth.token) {
      out.push({
        id: "auth-token-env-differs",
        severity: "warn",
        subject: "GATEHOUSE_GATEWAY_TOKEN",
        message:
          `GATEHOUSE_GATEWAY_TOKEN overrides a different gateway.auth.token in ${config.configPath}: clients ` +
          "reading the file are refused with AUTH_TOKEN_MISMATCH.",
        fix: "keep one source of truth: unset GATEHOUSE_GATEWAY_TOKEN (service unit, shell profile) or make both equal",
      });
    }
    return out;
  },
};

export const exposureCheck: Check = {
  id: "exposure",
  title: "a gateway reachable from other machines requires auth (and should use TLS)",
  run(facts) {
    if (!facts.config.ok) return { skipped: "the config file is invalid" };
    const { gateway, configPath } = facts.config.config;
    if (!isExposedBind(gateway)) return [];
    const where = gateway.bind === "custom" ? `${gateway.customBindHost}` : "all interfaces (0.0.0.0)";
    const out: Finding[] = [];
    if (gateway.auth.mode === "none") {
      out.push({
        id: "auth-none-exposed",
        severity: "error",
        subject: "gateway.auth.mode",
        message: `the gateway binds ${where} with gateway.auth.mode none: anyone on the network could connect (it refuses to start like this).`,
        fix: `set gateway.auth.mode to "token" in ${configPath} (or gateway.bind to "loopback")`,
      });
    }
    if (gateway.tls.enabled) return out;
    out.push({
      id: "tls-missing",
      severity: "warn",
      subject: "gateway.tls.enabled",
      message: `the gateway binds ${where} over plain ws://: the shared token and device tokens cross the network unencrypted.`,
      fix:
        `set gateway.tls.enabled to true in ${configPath} (a self-signed certificate is generated in the state dir; ` +
        "clients pin its fingerprint, which gatehouse status shows), or put a TLS-terminating reverse proxy in front " +
        "and list its exact address in gateway.trustedProxies, or bind loopback and reach it over SSH",
    });
    return out;
  },
};

export const trustedProxyCheck: Check = {
  id: "trusted-proxy",
  title: "trusted-proxy mode verifies who the proxy says the user is, and auto-approves no administrator",
  run(facts) {
    if (!facts.config.ok) return { skipped: "the config file is invalid" };
    const { gateway, configPath } = facts.config.config;
    const tp = gateway.auth.trustedProxy;
    if (gateway.auth.mode !== "trusted-proxy" || !tp) return [];
    const out: Finding[] = [];
    const auto = tp.deviceAutoApprove;
    if (autoApprovesAdmin(auto)) {
      out.push({
        id: "trusted-proxy-auto-approve-admin",
        severity: "warn",
        subject: "gateway.auth.trustedProxy.deviceAutoApprove.scopes",
        message:
          "DANGER: deviceAutoApprove lists operator.admin: every device brought by a user the proxy lets in is approved " +
          "as an administrator (pairing, tokens, every scope) without anyone looking.",
        fix: `remove operator.admin from gateway.auth.trustedProxy.deviceAutoApprove.scopes in ${configPath} and approve administrators by hand (gatehouse devices approve)`,
      });
    }
    if (!tp.assertion) {
      out.push({
        id: "trusted-proxy-unverified",
        severity: "warn",
        subject: "gateway.auth.trustedProxy.assertion",
        message:
          "the user header is believed on the proxy's word alone: anything that reaches the gateway from a trusted proxy " +
          "address can name any user.",
        fix: `set gateway.auth.trustedProxy.assertion (header, jwksUrl, issuer, audience, userClaim) in ${configPath} to verify the proxy's signed JWT`,
      });
    }
    return out;
  },
};
