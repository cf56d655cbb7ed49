package io.github.mxe2ee.plugin.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.appservice.AppserviceOptions;
import io.github.mxe2ee.plugin.appservice.DeviceModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The {@code appservice} section of the shipped file, and what the reader refuses. */
class AppserviceConfigTest {

  @Test
  void theShippedFileReadsWithTheDevRegistration() {
    AppserviceOptions o = AppserviceConfig.read(Path.of("../config/mxe2ee.yaml"));
    assertEquals("bridge_bot", o.getBotLocalpart());
    assertEquals("mxe2ee-dev-bridge", o.getAppserviceId());
    assertEquals("mxe2ee_dev_hs_token_do_not_use_in_production", o.getHsToken());
    assertEquals(DeviceModel.GHOST_DEVICES, o.getDeviceModel());
    assertEquals(AppserviceOptions.DEFAULT_MAX_OPEN_GHOSTS, o.getMaxOpenGhosts());
    assertEquals(AppserviceOptions.DEFAULT_REMEMBERED_TRANSACTIONS, o.getRememberedTransactions());
    assertEquals("http://127.0.0.1:8008", o.getHomeserverUrl());
    assertFalse(o.toString().contains("token_do_not_use"), "no token in toString");
  }

  private static Path file(String appservice) throws Exception {
    Path dir = Files.createTempDirectory("as-config");
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, "homeserver: http://127.0.0.1:8008\nstore: sqlite:x.db\n" + appservice);
    return f;
  }

  @Test
  void inlineValuesAndBounds() throws Exception {
    AppserviceOptions o =
        AppserviceConfig.read(
            file(
                "appservice:\n  as_token: a\n  hs_token: h\n  sender_localpart: bot\n"
                    + "  device_model: bot_device\n  max_open_ghosts: 3\n"));
    assertEquals(DeviceModel.BOT_DEVICE, o.getDeviceModel());
    assertEquals(3, o.getMaxOpenGhosts());
    String base = "appservice:\n  as_token: a\n  hs_token: h\n  sender_localpart: bot\n";
    for (String bad :
        new String[] {
          base + "  max_open_ghosts: 0\n",
          base + "  device_model: shared\n",
          base + "  unknown_thing: 1\n",
          "appservice:\n  as_token: a\n  sender_localpart: bot\n",
          "appservice:\n  registration: does-not-exist.yaml\n",
          "bus:\n  address_prefix: x\n"
        }) {
      ConfigException e =
          assertThrows(ConfigException.class, () -> AppserviceConfig.read(file(bad)), bad);
      assertTrue(e.getMessage().contains("appservice"), e.getMessage());
      assertFalse(e.getMessage().contains("as_token: a"));
    }
  }
}
