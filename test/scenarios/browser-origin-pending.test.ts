/**
 * Issue 14 item 6: a pairing request a browser page made records that page's Origin, and the owner
 * sees it wherever requests are shown. The story: a gateway whose config still allows a page the
 * owner does not expect; a browser device asks from there; the owner's `devices pending` and
 * `devices list` (text and --json), `status`, `explain`, `devices approve` without an id, and
 * `devices reject` all name that page; the owner rejects it, and later revokes the device it got
 * paired as. Real gateway process and CLI.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { generateIdentity, type DeviceIdentity } from "../../src/identity/keys.js";
import { devicesList } from "../helpers/cli-output.js";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import {
  freePort,
  runCli,
  spawnGateway,
  type CliResult,
  type GatewayProcess,
} from "../helpers/gateway-process.js";
import { openPeer, sendConnect, type Frame } from "../helpers/raw-client.js";

const UNEXPECTED = "https://tools.example";
const TOKEN = "shared-" + "o".repeat(40);

const sandbox = createCliSandbox();
let gw: GatewayProcess;
let dir: string;
let url: string;

before(async () => {
  const port = await freePort();
  dir = sandbox.stateDir({
    gateway: {
      port,
      auth: { token: TOKEN },
      controlUi: { allowedOrigins: [UNEXPECTED] },
      // A second CLI on this host pends too, so a request no page made is listed beside the page's.
      pairing: { autoApproveLocal: false },
    },
  });
  gw = await spawnGateway(["--state-dir", dir], sandbox.env);
  url = `ws://127.0.0.1:${port}`;
});
after(async () => {
  await gw?.stop();
  sandbox.cleanup();
});

/** A CLI run; generous, since each one starts a fresh Node on a machine other tests keep busy. */
const CLI_TIMEOUT_MS = 60_000;

/** The owner's CLI on the gateway host. */
const owner = (args: string[]): Promise<CliResult> =>
  runCli([...args, "--state-dir", dir], sandbox.env, CLI_TIMEOUT_MS);

/** A Control UI page served from `origin` connecting with the shared token; the connect's answer. */
async function browserConnect(identity: DeviceIdentity, origin: string, scopes: string[]): Promise<Frame> {
  const peer = await openPeer(url, { Origin: origin });
  const res = await sendConnect(peer, {
    auth: { token: TOKEN },
    identity,
    clientId: "openclaw-control-ui",
    mode: "webchat",
    platform: "Linux x86_64",
    scopes,
  });
  peer.ws.close();
  return res;
}

function requestIdOf(res: Frame): string {
  assert.equal(res.error?.details?.code, "PAIRING_REQUIRED", JSON.stringify(res.error));
  const id = res.error?.details?.requestId;
  assert.equal(typeof id, "string");
  return id as string;
}

/** The text block `devices list` prints for one request (from its id to the next blank-indented id). */
function blockOf(text: string, requestId: string): string {
  const start = text.indexOf(`  ${requestId}\n`);
  assert.ok(start >= 0, `request ${requestId} is listed in:\n${text}`);
  const rest = text.slice(start + requestId.length + 3);
  const end = rest.search(/\n {2}\S|\n\n/);
  return end < 0 ? rest : rest.slice(0, end);
}

describe("issue 14 item 6: a device from an unexpected origin shows up pending with that origin", () => {
  const browser = generateIdentity();
  let first: string;

  it("C02: the page's connect pends (a browser Origin never pairs silently) and the request records the page", async () => {
    first = requestIdOf(await browserConnect(browser, UNEXPECTED, ["operator.admin"]));
    const list = await devicesList(owner);
    const request = list.pending.find((p) => p.requestId === first);
    assert.equal(request?.browserOrigin, UNEXPECTED);
    assert.equal(request?.deviceId, browser.deviceId);
    assert.ok(!list.paired.some((d) => d.deviceId === browser.deviceId), "nothing was paired");
  });

  it("devices list names the page under the request; a request that no page made names none", async () => {
    const cli = sandbox.stateDir();
    const cliRefusal = await runCli(
      ["health", "--state-dir", cli, "--url", url, "--token", TOKEN],
      sandbox.env,
      CLI_TIMEOUT_MS,
    );
    assert.equal(cliRefusal.code, 1, cliRefusal.stderr);
    const r = await owner(["devices", "list"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(blockOf(r.stdout, first), /^ {4}origin +https:\/\/tools\.example \(a browser page\)$/m);
    const cliRequest = (await devicesList(owner)).pending.find((p) => p.clientId === "cli");
    assert.ok(cliRequest, "the second CLI's request is pending");
    assert.equal(cliRequest.browserOrigin, undefined);
    assert.doesNotMatch(blockOf(r.stdout, cliRequest.requestId), /origin/);
    const rejected = await owner(["devices", "reject", cliRequest.requestId]);
    assert.equal(rejected.code, 0, rejected.stderr);
    assert.doesNotMatch(rejected.stdout, /browser page/);
  });

  it("devices pending shows only the requests, the page with its request (text and --json)", async () => {
    const text = await owner(["devices", "pending"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Pending requests \(1\)$/m);
    assert.match(blockOf(text.stdout, first), /^ {4}origin +https:\/\/tools\.example \(a browser page\)$/m);
    assert.doesNotMatch(text.stdout, /Paired devices/);
    const json = await owner(["devices", "pending", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { pending: Array<{ requestId: string; browserOrigin?: string }> };
    assert.deepEqual(Object.keys(body), ["pending"]);
    assert.deepEqual(
      body.pending.map((p) => [p.requestId, p.browserOrigin]),
      [[first, UNEXPECTED]],
    );
  });

  it("status lists the request with its page among the pending ones (text and --json)", async () => {
    const text = await owner(["status"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(blockOf(text.stdout, first), /^ {4}origin +https:\/\/tools\.example \(a browser page\)$/m);
    const json = await owner(["status", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as {
      pending: Array<{ requestId: string; browserOrigin?: string }>;
    };
    assert.equal(report.pending.find((p) => p.requestId === first)?.browserOrigin, UNEXPECTED);
  });

  it("explain tells the same story: the pending request was made from that page", async () => {
    const text = await owner(["explain", first]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^client +openclaw-control-ui\/webchat from 127\.0\.0\.1, Origin https:\/\/tools\.example;/m,
    );
    const json = await owner(["explain", first, "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { decision: string; connection: { origin?: string } };
    assert.equal(report.decision, "pend");
    assert.equal(report.connection.origin, UNEXPECTED);
  });

  it("devices approve without an id lists the page with the request (text and --json)", async () => {
    const text = await owner(["devices", "approve"]);
    assert.equal(text.code, 2, text.stderr);
    assert.match(
      text.stderr,
      new RegExp(`^ {2}${first} .*, page https://tools\\.example, .*asks roles operator`, "m"),
    );
    const json = await owner(["devices", "approve", "--json"]);
    assert.equal(json.code, 2, json.stderr);
    const body = JSON.parse(json.stdout) as {
      error: { pending: Array<{ requestId: string; browserOrigin?: string }> };
    };
    const shown = JSON.stringify(body);
    assert.ok(shown.includes(`"browserOrigin":"${UNEXPECTED}"`), shown);
  });

  it("the owner rejects it, told whose page it was; the page's retry pends again and still shows the page", async () => {
    const r = await owner(["devices", "reject", first]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^rejected request ${first} from device .* on the browser page https://tools\\.example$`,
        "m",
      ),
    );
    const retry = requestIdOf(await browserConnect(browser, UNEXPECTED, ["operator.admin"]));
    assert.notEqual(retry, first);
    const list = await devicesList(owner);
    assert.equal(list.pending.find((p) => p.requestId === retry)?.browserOrigin, UNEXPECTED);
    assert.ok(!list.paired.some((d) => d.deviceId === browser.deviceId), "still nothing paired");
    assert.equal((await owner(["devices", "reject", retry])).code, 0);
  });

  it("approved by mistake and then revoked: the approval names the page, the revoked device is refused", async () => {
    const reader = generateIdentity();
    const id = requestIdOf(await browserConnect(reader, UNEXPECTED, ["operator.read"]));
    const approved = await owner(["devices", "approve", id]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(
      approved.stdout,
      /on the browser page https:\/\/tools\.example was granted roles operator; scopes operator\.read/,
    );
    const admitted = await browserConnect(reader, UNEXPECTED, ["operator.read"]);
    assert.equal(admitted.ok, true, JSON.stringify(admitted.error));
    const token = (admitted.payload?.auth as { deviceToken?: string } | undefined)?.deviceToken;
    assert.equal(typeof token, "string", "the page was handed a device token");

    const revoked = await owner(["devices", "revoke", reader.deviceId.slice(0, 12)]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const peer = await openPeer(url, { Origin: UNEXPECTED });
    const again = await sendConnect(peer, {
      auth: { deviceToken: token! },
      identity: reader,
      clientId: "openclaw-control-ui",
      mode: "webchat",
      platform: "Linux x86_64",
      scopes: ["operator.read"],
    });
    peer.ws.close();
    assert.equal(again.ok, false, "a revoked device token admits nothing");
  });
});
