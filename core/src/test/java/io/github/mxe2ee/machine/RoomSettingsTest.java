package io.github.mxe2ee.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** How {@code m.room.encryption} rotation settings from room state are taken in. */
class RoomSettingsTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static RoomSettings apply(String json) throws Exception {
    return RoomSettings.defaults().withEncryption(MAPPER.readTree(json));
  }

  @Test
  void reasonableValuesAreKept() throws Exception {
    RoomSettings s =
        apply(
            "{\"algorithm\":\"m.megolm.v1.aes-sha2\",\"rotation_period_ms\":3600000,\"rotation_period_msgs\":50}");
    assertTrue(s.encrypted());
    assertEquals(3_600_000, s.rotationPeriodMs());
    assertEquals(50, s.rotationPeriodMsgs());
  }

  @Test
  void excessivePeriodsAreLoweredToTheMaximum() throws Exception {
    RoomSettings s =
        apply("{\"rotation_period_ms\":315360000000,\"rotation_period_msgs\":1000000000}");
    assertEquals(MachineConfig.MAX_ROTATION_PERIOD.toMillis(), s.rotationPeriodMs());
    assertEquals(MachineConfig.MAX_ROTATION_MESSAGES, s.rotationPeriodMsgs());
  }

  @Test
  void missingInvalidOrNonPositiveValuesUseTheDefaults() throws Exception {
    for (String json :
        new String[] {
          "{}",
          "{\"rotation_period_ms\":0,\"rotation_period_msgs\":-5}",
          "{\"rotation_period_ms\":\"604800000\",\"rotation_period_msgs\":\"7\"}",
          "{\"rotation_period_ms\":1.5e300,\"rotation_period_msgs\":99999999999999999999999}",
          "{\"rotation_period_ms\":null,\"rotation_period_msgs\":[1]}",
          "{\"rotation_period_ms\":12.5,\"rotation_period_msgs\":true}"
        }) {
      RoomSettings s = apply(json);
      assertEquals(MachineConfig.DEFAULT_ROTATION_PERIOD.toMillis(), s.rotationPeriodMs(), json);
      assertEquals(MachineConfig.DEFAULT_ROTATION_MESSAGES, s.rotationPeriodMsgs(), json);
    }
  }

  @Test
  void persistedSettingsRoundTrip() throws Exception {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("rotation_period_msgs", 7);
    RoomSettings s =
        RoomSettings.defaults().withEncryption(content).withHistoryVisibility("shared");
    assertTrue(s.sharedHistory());
    assertEquals(7, s.rotationPeriodMsgs());
  }
}
