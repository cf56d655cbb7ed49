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
    return apply(json, RotationPolicy.DEFAULT);
  }

  private static RoomSettings apply(String json, RotationPolicy policy) throws Exception {
    return RoomSettings.defaults(policy).withEncryption(MAPPER.readTree(json), policy);
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
        RoomSettings.defaults(RotationPolicy.DEFAULT)
            .withEncryption(content, RotationPolicy.DEFAULT)
            .withHistoryVisibility("shared");
    assertTrue(s.sharedHistory());
    assertEquals(7, s.rotationPeriodMsgs());
  }

  @Test
  void anOperatorsPolicyLowersWhatRoomsMayAskAndSetsTheDefaults() throws Exception {
    RotationPolicy day =
        new RotationPolicy(java.time.Duration.ofHours(1), 20, java.time.Duration.ofDays(1), 1_000);
    RoomSettings asked =
        apply("{\"rotation_period_ms\":604800000,\"rotation_period_msgs\":5000}", day);
    assertEquals(86_400_000, asked.rotationPeriodMs());
    assertEquals(1_000, asked.rotationPeriodMsgs());
    RoomSettings silent = apply("{}", day);
    assertEquals(3_600_000, silent.rotationPeriodMs());
    assertEquals(20, silent.rotationPeriodMsgs());
    RoomSettings sooner = apply("{\"rotation_period_ms\":60000,\"rotation_period_msgs\":5}", day);
    assertEquals(60_000, sooner.rotationPeriodMs());
    assertEquals(5, sooner.rotationPeriodMsgs());
  }

  @Test
  void policiesOutsideTheLimitsAreRefused() {
    java.time.Duration week = java.time.Duration.ofDays(7);
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> new RotationPolicy(week, 100, java.time.Duration.ofDays(8), 100));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> new RotationPolicy(week, 100, week, 10_001));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> new RotationPolicy(week, 200, week, 100));
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> new RotationPolicy(java.time.Duration.ZERO, 100, week, 100));
  }

  @Test
  void encryptedStateIsReadFromEitherFieldName_onlyAsTrue() throws Exception {
    assertTrue(apply("{\"io.element.msc4362.encrypt_state_events\":true}").encryptState());
    assertTrue(apply("{\"encrypt_state_events\":true}").encryptState());
    for (String json :
        new String[] {
          "{}",
          "{\"io.element.msc4362.encrypt_state_events\":false}",
          "{\"io.element.msc4362.encrypt_state_events\":\"true\"}",
          "{\"encrypt_state_events\":1}",
          "{\"encrypt_state_events\":null}"
        }) {
      org.junit.jupiter.api.Assertions.assertFalse(apply(json).encryptState(), json);
    }
  }

  @Test
  void encryptedStateIsNeverSwitchedOffAgain() throws Exception {
    RoomSettings on = apply("{\"io.element.msc4362.encrypt_state_events\":true}");
    RoomSettings later =
        on.withEncryption(
            MAPPER.readTree("{\"algorithm\":\"m.megolm.v1.aes-sha2\"}"), RotationPolicy.DEFAULT);
    assertTrue(later.encryptState(), "a content without the flag is no downgrade");
    assertTrue(later.withHistoryVisibility("joined").encryptState());
  }
}
