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
 * @param encryptState true once an {@code m.room.encryption} content enabled encrypted state
 *     (MSC4362: {@code io.element.msc4362.encrypt_state_events} or {@code encrypt_state_events} set
 *     to {@code true}); like {@code encrypted}, never false again afterwards
 */
record RoomSettings(
    boolean encrypted,
    long rotationPeriodMs,
    long rotationPeriodMsgs,
    String historyVisibility,
    boolean encryptState) {
  private static final String KEY = "room.settings.";

  /** Unknown room: the policy's defaults, not encrypted. */
  static RoomSettings defaults(RotationPolicy rotation) {
    return new RoomSettings(false, rotation.periodMs(0), rotation.messages(0), null, false);
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
                    ctx.config.rotation().periodMs(j.path("rotation_period_ms").asLong()),
                    ctx.config.rotation().messages(j.path("rotation_period_msgs").asLong()),
                    j.path("history_visibility").isTextual()
                        ? j.get("history_visibility").textValue()
                        : null,
                    j.path("encrypt_state_events").asBoolean(false)))
        .orElse(defaults(ctx.config.rotation()));
  }

  void save(String roomId, Changes changes) {
    ObjectNode j = Context.object();
    j.put("encrypted", encrypted);
    j.put("rotation_period_ms", rotationPeriodMs);
    j.put("rotation_period_msgs", rotationPeriodMsgs);
    if (historyVisibility != null) {
      j.put("history_visibility", historyVisibility);
    }
    if (encryptState) {
      j.put("encrypt_state_events", true);
    }
    changes.putValue(KEY + roomId, j.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Applies an {@code m.room.encryption} content through {@code rotation}: missing, non-numeric or
   * non-positive periods take its defaults, and periods above its maxima are lowered to them.
   * Encrypted state is switched on by either MSC4362 field ({@link EncryptedState#enabledBy}) and
   * never off: a later content without it (sent by anyone allowed to, or forged by the server in
   * the unsigned room state) does not make the bot send its state in the clear again.
   */
  RoomSettings withEncryption(JsonNode content, RotationPolicy rotation) {
    JsonNode ms = content.path("rotation_period_ms");
    JsonNode msgs = content.path("rotation_period_msgs");
    long periodMs =
        rotation.periodMs(ms.isIntegralNumber() && ms.canConvertToLong() ? ms.longValue() : 0);
    long periodMsgs =
        rotation.messages(
            msgs.isIntegralNumber() && msgs.canConvertToLong() ? msgs.longValue() : 0);
    return new RoomSettings(
        true,
        periodMs,
        periodMsgs,
        historyVisibility,
        encryptState || EncryptedState.enabledBy(content));
  }

  RoomSettings withHistoryVisibility(String visibility) {
    return new RoomSettings(
        encrypted, rotationPeriodMs, rotationPeriodMsgs, visibility, encryptState);
  }
}
