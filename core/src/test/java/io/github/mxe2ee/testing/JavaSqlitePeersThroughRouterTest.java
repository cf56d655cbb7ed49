package io.github.mxe2ee.testing;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@link MachineScenarios} scenario with mxe2ee's Java {@code OlmMachine} on {@code
 * SqliteCryptoStore} files in every role: the default store under the same protocol behaviour.
 */
class JavaSqlitePeersThroughRouterTest extends MachineScenarios {
  @TempDir Path dir;

  @Override
  protected RoutedMachine newMachine(String role, String userId, String deviceId) {
    return JavaMachine.sqlite(JavaMachine.config(userId, deviceId), dir.resolve(role + ".db"));
  }
}
