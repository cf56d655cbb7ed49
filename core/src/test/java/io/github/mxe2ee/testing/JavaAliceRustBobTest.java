package io.github.mxe2ee.testing;

/**
 * Interop (issue 5, item 9): every {@link MachineScenarios} scenario with mxe2ee's Java {@code
 * OlmMachine} as Alice and Element's Rust {@code OlmMachine} (matrix-sdk-crypto-wasm) as Bob and
 * his second device. Skipped with a reason when the Node peer is not installed.
 */
class JavaAliceRustBobTest extends MachineScenarios {
  @Override
  protected RoutedMachine newMachine(String role, String userId, String deviceId) {
    return role.equals("alice")
        ? JavaMachine.inMemory(userId, deviceId)
        : RustMachinePeer.start(userId, deviceId);
  }
}
