package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.store.Changes;
import java.nio.charset.StandardCharsets;

/**
 * What the machine remembers of a room's state: its {@code m.room.encryption} rotation settings and
 * its history visibility (spec: {@code end_to_end_encryption.md}, "m.megolm.v1.aes-sha2" rotation
 * rules and "Shareable encryption sessions"). Persisted as small JSON values.
 *
 * @param encrypted true once {@code m.room.encryption} was seen
 * @param rotationPeriodMs rotate the outbound session after this long
 * @param rotationPeriodMsgs rotate after this many messages
 * @param historyVisibility the room's {@code history_visibility}, or null if unknown
 */
record RoomSettings(
    boolean encrypted, long rotationPeriodMs, long rotationPeriodMsgs, String historyVisibility) {
  private static final String KEY = "room.settings.";

  /** Unknown room: defaults, not encrypted. */
  static RoomSettings defaults() {
    return new RoomSettings(
        false,
        MachineConfig.DEFAULT_ROTATION_PERIOD.toMillis(),
        MachineConfig.DEFAULT_ROTATION_MESSAGES,
        null);
  }

  /** True if sessions created now are shareable with future members (MSC4268, spec). */
  boolean sharedHistory() {
    return "shared".equals(historyVisibility) || "world_readable".equals(historyVisibility);
  }

  static RoomSettings load(Context ctx, String roomId) {
    return ctx.store
        .value(KEY + roomId)
        .map(b -> Context.parseObject(new String(b, StandardCharsets.UTF_8)))
        .map(
            j ->
                new RoomSettings(
                    j.path("encrypted").asBoolean(false),
                    j.path("rotation_period_ms").asLong(),
                    j.path("rotation_period_msgs").asLong(),
                    j.path("history_visibility").isTextual()
                        ? j.get("history_visibility").textValue()
                        : null))
        .orElse(defaults());
  }

  void save(String roomId, Changes changes) {
    ObjectNode j = Context.object();
    j.put("encrypted", encrypted);
    j.put("rotation_period_ms", rotationPeriodMs);
    j.put("rotation_period_msgs", rotationPeriodMsgs);
    if (historyVisibility != null) {
      j.put("history_visibility", historyVisibility);
    }
    changes.putValue(KEY + roomId, j.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Applies an {@code m.room.encryption} content: missing, non-numeric or non-positive periods keep
   * the defaults, and periods above {@link MachineConfig#MAX_ROTATION_PERIOD} / {@link
   * MachineConfig#MAX_ROTATION_MESSAGES} are lowered to them.
   */
  RoomSettings withEncryption(JsonNode content) {
    JsonNode ms = content.path("rotation_period_ms");
    JsonNode msgs = content.path("rotation_period_msgs");
    long periodMs =
        ms.isIntegralNumber() && ms.canConvertToLong() && ms.longValue() > 0
            ? Math.min(ms.longValue(), MachineConfig.MAX_ROTATION_PERIOD.toMillis())
            : MachineConfig.DEFAULT_ROTATION_PERIOD.toMillis();
    long periodMsgs =
        msgs.isIntegralNumber() && msgs.canConvertToLong() && msgs.longValue() > 0
            ? Math.min(msgs.longValue(), MachineConfig.MAX_ROTATION_MESSAGES)
            : MachineConfig.DEFAULT_ROTATION_MESSAGES;
    return new RoomSettings(true, periodMs, periodMsgs, historyVisibility);
  }

  RoomSettings withHistoryVisibility(String visibility) {
    return new RoomSettings(encrypted, rotationPeriodMs, rotationPeriodMsgs, visibility);
  }
}
