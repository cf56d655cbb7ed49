package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Set;

/**
 * Encrypted state events (MSC4362 "Simplified encrypted state events", reading the plaintext format
 * MSC3414 introduced): how the outer state key is packed, which state types are never encrypted,
 * and the check that binds a decrypted state event to the state entry the homeserver filed it
 * under.
 *
 * <p>An encrypted state event is an {@code m.room.encrypted} state event whose Megolm plaintext is
 * {@code {type, state_key, content, room_id}} and whose outer {@code state_key} is the packed state
 * key:
 *
 * <pre>
 *   outer state_key = type ":" state_key      (split at the FIRST colon)
 *   e.g. "m.room.topic:"  "com.example.bridge:@bob:localhost"
 * </pre>
 *
 * The homeserver resolves state by the outer key only, so the client must check that the plaintext
 * is what that entry claims (MSC4362, "Reception and packed state key validation"): a server that
 * moved an encrypted event under another state key (an old topic filed as a second topic, a topic
 * filed as bridge state, a message served as state) would otherwise be believed. An MSC3414 event
 * whose opaque state key is not this packing binds nothing and is refused like a mismatch; this
 * machine never sends MSC3414's opaque keys.
 *
 * <p>Stateless and thread-safe.
 */
public final class EncryptedState {
  /**
   * The state types that are never encrypted (MSC4362 and MSC3414, "Proposal": the events the
   * server or clients need to run the room), plus {@code m.room.encrypted} itself (an encrypted
   * event inside an encrypted event has no meaning). Refused when asked to encrypt and when a
   * decrypted state event claims one of them.
   */
  public static final Set<String> NEVER_ENCRYPTED =
      Set.of(
          "m.room.create",
          "m.room.member",
          "m.room.join_rules",
          "m.room.power_levels",
          "m.room.third_party_invite",
          "m.room.history_visibility",
          "m.room.guest_access",
          "m.room.encryption",
          "m.room.encrypted");

  /**
   * Longest packed state key, in UTF-8 bytes: the Matrix size limit of a {@code state_key} (spec,
   * "Size limits": 255 bytes), which the packed key must fit (MSC4362, "Potential issues"). A
   * longer outer key cannot come from an honest server and is refused unread.
   */
  public static final int MAX_STATE_KEY_BYTES = 255;

  /** The {@code m.room.encryption} field enabling state encryption, unstable name (MSC4362). */
  public static final String UNSTABLE_FLAG = "io.element.msc4362.encrypt_state_events";

  /** The {@code m.room.encryption} field enabling state encryption, stable name (MSC4362). */
  public static final String STABLE_FLAG = "encrypt_state_events";

  private EncryptedState() {}

  /**
   * Whether an {@code m.room.encryption} content asks for encrypted state: either name, with the
   * JSON value {@code true} (nothing else counts).
   */
  public static boolean enabledBy(JsonNode encryptionContent) {
    return encryptionContent != null
        && (encryptionContent.path(UNSTABLE_FLAG).isBoolean()
                && encryptionContent.get(UNSTABLE_FLAG).booleanValue()
            || encryptionContent.path(STABLE_FLAG).isBoolean()
                && encryptionContent.get(STABLE_FLAG).booleanValue());
  }

  /**
   * Whether events of {@code type} may be sent encrypted as state: not one of {@link
   * #NEVER_ENCRYPTED}, not empty, no colon (the packed key is split at the first colon, so a type
   * with a colon could not be recovered from it).
   */
  public static boolean mayEncrypt(String type) {
    return type != null
        && !type.isEmpty()
        && type.indexOf(':') < 0
        && !NEVER_ENCRYPTED.contains(type);
  }

  /**
   * The packed outer state key {@code type:stateKey}.
   *
   * @throws IllegalArgumentException if {@code type} may not be encrypted ({@link #mayEncrypt}) or
   *     the packed key is longer than {@value #MAX_STATE_KEY_BYTES} bytes
   */
  public static String pack(String type, String stateKey) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(stateKey, "stateKey");
    if (NEVER_ENCRYPTED.contains(type)) {
      throw new IllegalArgumentException(
          type + " is never encrypted (MSC4362): send it as plain state");
    }
    if (!mayEncrypt(type)) {
      throw new IllegalArgumentException(
          "state type must be non-empty and contain no ':' to be packed (MSC4362), was '"
              + type
              + "'");
    }
    String packed = type + ":" + stateKey;
    int bytes = packed.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_STATE_KEY_BYTES) {
      throw new IllegalArgumentException(
          "packed state key is "
              + bytes
              + " bytes, at most "
              + MAX_STATE_KEY_BYTES
              + " allowed (type and state key too long)");
    }
    return packed;
  }

  /** What the check of a decrypted event found. */
  enum Verdict {
    /** Not a state event, inside and outside. */
    NOT_STATE,
    /** A state event whose packed key matches its plaintext. */
    STATE,
    /** The outer key and the plaintext disagree, or either is malformed. */
    MISMATCH,
    /** A well-bound state event of a {@link #NEVER_ENCRYPTED} type. */
    NEVER_ENCRYPTED_TYPE
  }

  /**
   * Checks a decrypted event against the event it came in (MSC4362, "Reception and packed state key
   * validation"): the outer event has a {@code state_key} if and only if the plaintext has one;
   * both are strings; the outer key (at most {@value #MAX_STATE_KEY_BYTES} bytes) splits at its
   * first colon into exactly the plaintext's type and state key; and that type may be encrypted.
   *
   * @param outer the received {@code m.room.encrypted} event
   * @param plaintext the decrypted payload, whose {@code type} is a string
   */
  static Verdict check(JsonNode outer, JsonNode plaintext) {
    JsonNode outerKey = outer.get("state_key");
    JsonNode innerKey = plaintext.get("state_key");
    if (outerKey == null && innerKey == null) {
      return Verdict.NOT_STATE;
    }
    if (outerKey == null || innerKey == null || !outerKey.isTextual() || !innerKey.isTextual()) {
      return Verdict.MISMATCH;
    }
    String packed = outerKey.textValue();
    if (packed.length() > MAX_STATE_KEY_BYTES
        || packed.getBytes(StandardCharsets.UTF_8).length > MAX_STATE_KEY_BYTES) {
      return Verdict.MISMATCH;
    }
    int colon = packed.indexOf(':');
    if (colon < 0) {
      return Verdict.MISMATCH;
    }
    String type = plaintext.path("type").asText();
    if (!packed.substring(0, colon).equals(type)
        || !packed.substring(colon + 1).equals(innerKey.textValue())) {
      return Verdict.MISMATCH;
    }
    if (NEVER_ENCRYPTED.contains(type)) {
      return Verdict.NEVER_ENCRYPTED_TYPE;
    }
    return mayEncrypt(type) ? Verdict.STATE : Verdict.MISMATCH;
  }
}
