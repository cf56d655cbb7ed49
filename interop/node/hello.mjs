// Minimal liveness peer: proves the real Node crypto libraries load and answer.
// Protocol: one JSON object per line on stdin, e.g. {"id":1,"op":"version"};
// one reply per line on stdout: {"id":1,"result":{...}} or {"id":1,"error":{"kind":"...","message":"..."}}.
// The full interop peers live beside this file; keep this one tiny.
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import * as cryptoWasm from "@matrix-org/matrix-sdk-crypto-wasm";
import Olm from "@towns-protocol/olm";
import * as matrixJsSdk from "matrix-js-sdk";

// Read versions from the installed package manifests (some packages do not export ./package.json).
const pkgVersion = (name) =>
  JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), "utf8")).version;

await cryptoWasm.initAsync();
await Olm.initAsync();

async function version() {
  // Create a real OlmMachine so a broken wasm build fails here, not later in a test.
  const machine = await cryptoWasm.OlmMachine.initialize(
    new cryptoWasm.UserId("@hello:localhost"),
    new cryptoWasm.DeviceId("HELLO"),
  );
  const curve25519 = machine.identityKeys.curve25519.toBase64();
  machine.close();
  const wasmVersions = cryptoWasm.getVersions();
  const account = new Olm.Account();
  account.create();
  const olmIdentity = JSON.parse(account.identity_keys());
  account.free();
  return {
    runtime: "node",
    node: process.versions.node,
    "matrix-sdk-crypto-wasm": pkgVersion("@matrix-org/matrix-sdk-crypto-wasm"),
    matrix_sdk_crypto: wasmVersions.matrix_sdk_crypto,
    vodozemac: wasmVersions.vodozemac,
    "matrix-js-sdk": pkgVersion("matrix-js-sdk"),
    "matrix-js-sdk-loaded": typeof matrixJsSdk.createClient === "function",
    "towns-protocol-olm": pkgVersion("@towns-protocol/olm"),
    libolm: Olm.get_library_version().join("."),
    olmMachineCurve25519: curve25519,
    olmAccountCurve25519: olmIdentity.curve25519,
  };
}

const ops = { version };

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let id = null;
  try {
    const req = JSON.parse(line);
    id = req.id ?? null;
    const op = ops[req.op];
    if (!op) {
      reply({ id, error: { kind: "unknown_op", message: `unknown op: ${req.op}` } });
      continue;
    }
    reply({ id, result: await op(req) });
  } catch (e) {
    reply({ id, error: { kind: "peer_error", message: String(e && e.message ? e.message : e) } });
  }
}
