package io.github.mxe2ee.testing;

/**
 * Every {@link MachineScenarios} scenario with mxe2ee's Java {@code OlmMachine} in every role
 * (issue 5, item 9: two machines through an in-memory router).
 */
class JavaPeersThroughRouterTest extends MachineScenarios {
  @Override
  protected RoutedMachine newMachine(String role, String userId, String deviceId) {
    return JavaMachine.inMemory(userId, deviceId);
  }
}
