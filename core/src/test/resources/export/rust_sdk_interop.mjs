// Makes the matrix-rust-sdk half of rust_sdk_interop.json (run once by hand; the fixture is
// never regenerated). Input: the JSON written by the test class KeyExportInteropFixture.
// Usage: node rust_sdk_interop.mjs input.json output.json
// Module resolution: run from a directory whose node_modules holds the versions pinned in
// interop/node/package.json (@matrix-org/matrix-sdk-crypto-wasm 18.9.0).
import { readFileSync, writeFileSync } from "node:fs";
import * as wasm from "@matrix-org/matrix-sdk-crypto-wasm";

await wasm.initAsync();
const input = JSON.parse(readFileSync(process.argv[2], "utf8"));

// matrix-rust-sdk reads the file mxe2ee wrote ...
const decrypted = wasm.OlmMachine.decryptExportedRoomKeys(input.mxe2ee_armored, input.passphrase);
// ... and imports its entries into a real OlmMachine.
const machine = await wasm.OlmMachine.initialize(
  new wasm.UserId("@interop:localhost"),
  new wasm.DeviceId("INTEROP"),
);
const imported = await machine.importExportedRoomKeys(decrypted, () => {});
const importedSessions = [];
for (const [roomId, sessions] of imported.keys()) {
  for (const [, ids] of sessions) {
    for (const id of ids) importedSessions.push({ room_id: roomId, session_id: id });
  }
}
// matrix-rust-sdk writes a file of its own from the same payload, for mxe2ee to read.
const rustArmored = wasm.OlmMachine.encryptExportedRoomKeys(
  input.payload_json,
  input.passphrase,
  input.rounds,
);
machine.close();

const versions = wasm.getVersions();
const output = {
  description:
    "Key export interop with matrix-rust-sdk: 'mxe2ee_armored' was written by mxe2ee and read by matrix-rust-sdk, which returned 'rust_decrypted_json' and imported 'rust_imported_count' of 'rust_total_count' sessions; 'rust_armored' was written by matrix-rust-sdk from 'payload_json'. 'messages' were encrypted by the exported Megolm sessions.",
  sources: [
    {
      package: "@matrix-org/matrix-sdk-crypto-wasm",
      version: JSON.parse(
        readFileSync(
          new URL("./node_modules/@matrix-org/matrix-sdk-crypto-wasm/package.json", import.meta.url),
          "utf8",
        ),
      ).version,
      matrix_sdk_crypto: versions.matrix_sdk_crypto,
      vodozemac: versions.vodozemac,
      license: "Apache-2.0",
      generator:
        "core/src/test/java/io/github/mxe2ee/export/KeyExportInteropFixture.java, then core/src/test/resources/export/rust_sdk_interop.mjs",
    },
  ],
  ...input,
  rust_decrypted_json: decrypted,
  rust_imported_count: Number(imported.importedCount),
  rust_total_count: Number(imported.totalCount),
  rust_imported_sessions: importedSessions,
  rust_armored: rustArmored,
};
writeFileSync(process.argv[3], JSON.stringify(output, null, 2) + "\n");
