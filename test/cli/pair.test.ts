/**
 * `gatehouse pair code` and `gatehouse connect --pair` against a real TLS gateway on loopback: what a
 * person sees (code, link, QR, the command to run elsewhere), and the usage errors that keep a code
 * from being spent on the wrong kind of client.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createCliSandbox } from "../helpers/cli-sandbox.js";
import { freePort, runCli, spawnGateway, type GatewayProcess } from "../helpers/gateway-process.js";

const sandbox = createCliSandbox();
after(() => sandbox.cleanup());

describe("gatehouse pair code / connect --pair", () => {
  let gw: GatewayProcess;
  let gwDir: string;
  before(async () => {
    gwDir = sandbox.stateDir();
    const port = await freePort();
    writeFileSync(
      join(gwDir, "gatehouse.json"),
      JSON.stringify({ gateway: { port, tls: { enabled: true } } }),
    );
    gw = await spawnGateway(["--state-dir", gwDir], sandbox.env);
  });
  after(() => gw.stop());
  const owner = (args: string[]) => runCli([...args, "--state-dir", gwDir], sandbox.env);

  it("prints the code grouped, the link, a QR code and what to run on the other machine", async () => {
    const r = await owner(["pair", "code", "--advertise-url", gw.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^setup code for operator-limited \(role operator: operator\.approvals, operator\.read, operator\.write\)$/m,
    );
    assert.match(
      r.stdout,
      /^ {2}code {5}[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{2} {3}single use; expires .* \(in 10m00s\)$/m,
    );
    assert.match(r.stdout, /^ {2}sha256 {3}([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    assert.match(r.stdout, /^ {2}link {5}gatehouse:\/\/pair\?url=wss%3A%2F%2F127\.0\.0\.1/m);
    assert.match(r.stdout, /[█▀▄]{10,}/, "a QR code drawn with block characters");
    assert.match(r.stdout, /^ {2}gatehouse connect --pair 'gatehouse:\/\/pair\?/m);
    const node = await owner([
      "pair",
      "code",
      "--profile",
      "node",
      "--ttl",
      "90s",
      "--no-qr",
      "--advertise-url",
      gw.url,
    ]);
    assert.equal(node.code, 0, node.stderr);
    assert.match(node.stdout, /\(in 1m30s\)/);
    assert.match(node.stdout, /^ {2}gatehouse node run --pair '/m);
    assert.doesNotMatch(node.stdout, /[█▀▄]{10,}/);
  });

  it("issue 14.4: on a loopback-only gateway pair code refuses (no code made) unless told the URL", async () => {
    const r = await owner(["pair", "code"]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /^error NO_REACHABLE_URL: the gateway listens on loopback only \(127\.0\.0\.1(, ::1)?\), so a device on another machine cannot reach it: no code was made — let it listen on the network, with TLS: gatehouse config set gateway\.bind lan gateway\.tls\.enabled true/m,
    );
    assert.equal(r.stdout, "");
    // Told the URL (a tunnel, or this very machine), it mints, and warns when that is loopback.
    const told = await owner(["pair", "code", "--advertise-url", gw.url, "--no-qr"]);
    assert.equal(told.code, 0, told.stderr);
    assert.match(
      told.stderr,
      /^WARNING: the link names wss:\/\/127\.0\.0\.1:\d+, a loopback address: it works only on this machine/m,
    );
  });

  it("connect --pair pairs this CLI once; the code then works for nobody", async () => {
    const minted = JSON.parse(
      (await owner(["pair", "code", "--json", "--advertise-url", gw.url])).stdout,
    ) as {
      link: string;
      code: string;
    };
    const dir = sandbox.stateDir();
    const r = await runCli(["connect", "--pair", minted.link, "--state-dir", dir, "--json"], sandbox.env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      paired: boolean;
      authMethod: string;
      scopes: string[];
      url: string;
    };
    assert.equal(report.paired, true);
    assert.equal(report.authMethod, "setup-code");
    assert.deepEqual(report.scopes, ["operator.approvals", "operator.read", "operator.write"]);
    const known = readFileSync(join(dir, "identity", "known-gateways.json"), "utf8");
    assert.match(known, /"fingerprint": "[0-9a-f]{64}"/);
    // Later: the device token, no code needed.
    const again = await runCli(["connect", "--url", report.url, "--state-dir", dir], sandbox.env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^connected \(auth: device-token\)/m);
    const reuse = await runCli(
      ["connect", "--pair", minted.code, "--url", report.url, "--state-dir", sandbox.stateDir()],
      sandbox.env,
    );
    assert.equal(reuse.code, 1);
    assert.match(
      reuse.stderr,
      /^error TLS_UNTRUSTED: /m,
      "a bare code carries no pin: the certificate is checked first",
    );
  });

  it("usage errors: a node code for connect, an operator code for node run, bad --pair, bad --ttl", async () => {
    const local = ["--advertise-url", gw.url];
    const nodeLink = JSON.parse(
      (await owner(["pair", "code", "--profile", "node", "--json", ...local])).stdout,
    ) as { link: string };
    const opLink = JSON.parse((await owner(["pair", "code", "--json", ...local])).stdout) as { link: string };
    const dir = sandbox.stateDir();
    const cases: Array<[string[], RegExp]> = [
      [
        ["connect", "--pair", nodeLink.link],
        /setup code for a node host; run it there: gatehouse node run --pair/,
      ],
      [["node", "run", "--pair", opLink.link], /setup code for an operator \(operator-limited\)/],
      [["connect", "--pair", "not-a-code"], /--pair: not a setup code/],
      [["pair", "code", "--ttl", "5s"], /--ttl: must be a duration between 30s and 24h/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli([...args, "--state-dir", dir], sandbox.env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
      assert.equal(
        r.stderr.includes(nodeLink.link) || r.stderr.includes(opLink.link),
        false,
        "a code is never echoed",
      );
    }
  });
});
