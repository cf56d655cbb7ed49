package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Arrays;
import java.util.Objects;

/**
 * An Olm pre-key message (version 3): pure encode/decode, no cryptography.
 *
 * <pre>
 * +---------+------------------------------------------------------+
 * | version | payload (protobuf-style fields, any order)           |
 * | 1 byte  |                                                      |
 * +---------+------------------------------------------------------+
 *   0x03      (no outer MAC: the embedded message carries its own)
 *
 * payload fields (as written by libolm and by us, in this order):
 * +------+--------------+-------+--------------------------------------------+
 * | tag  | name         | type  | value                                      |
 * +------+--------------+-------+--------------------------------------------+
 * | 0x0A | one-time key | bytes | 32: Bob's one-time (or fallback) key E_B   |
 * | 0x12 | base key     | bytes | 32: Alice's single-use base key E_A        |
 * | 0x1A | identity key | bytes | 32: Alice's Curve25519 identity key I_A    |
 * | 0x22 | message      | bytes | an encoded {@link OlmMessage} with its MAC |
 * +------+--------------+-------+--------------------------------------------+
 * </pre>
 *
 * <p>All four fields are required (libolm and vodozemac both reject a pre-key message without
 * them); the embedded message is decoded eagerly, so a decoded {@code PreKeyMessage} always holds a
 * well-formed {@link OlmMessage}. Unknown fields are skipped; repeated fields are rejected.
 *
 * <p>Immutable and thread-safe. Equality is by encoded bytes. See {@code
 * shared/spec/matrix-spec/content/olm-megolm/olm.md}, "Pre-Key Messages".
 */
public final class PreKeyMessage implements AnyOlmMessage {
  /** The only protocol version Matrix uses ("\x03"). */
  public static final int VERSION = 3;

  static final int ONE_TIME_KEY_TAG = 0x0A;
  static final int BASE_KEY_TAG = 0x12;
  static final int IDENTITY_KEY_TAG = 0x1A;
  static final int MESSAGE_TAG = 0x22;

  private final Curve25519PublicKey oneTimeKey;
  private final Curve25519PublicKey baseKey;
  private final Curve25519PublicKey identityKey;
  private final OlmMessage message;
  private final byte[] encoded;

  private PreKeyMessage(
      Curve25519PublicKey oneTimeKey,
      Curve25519PublicKey baseKey,
      Curve25519PublicKey identityKey,
      OlmMessage message,
      byte[] encoded) {
    this.oneTimeKey = oneTimeKey;
    this.baseKey = baseKey;
    this.identityKey = identityKey;
    this.message = message;
    this.encoded = encoded;
  }

  /** Builds and encodes a pre-key message in libolm's field order. */
  public static PreKeyMessage of(
      Curve25519PublicKey oneTimeKey,
      Curve25519PublicKey baseKey,
      Curve25519PublicKey identityKey,
      OlmMessage message) {
    Objects.requireNonNull(oneTimeKey, "oneTimeKey");
    Objects.requireNonNull(baseKey, "baseKey");
    Objects.requireNonNull(identityKey, "identityKey");
    Objects.requireNonNull(message, "message");
    byte[] inner = message.rawBytes();
    // Version, three 32-byte keys and the message, each field with a tag and a varint length.
    byte[] encoded =
        new ProtoWriter(1 + 3 * (2 + Curve25519PublicKey.LENGTH) + 6 + inner.length)
            .writeByte(VERSION)
            .writeBytesField(ONE_TIME_KEY_TAG, oneTimeKey.toBytes())
            .writeBytesField(BASE_KEY_TAG, baseKey.toBytes())
            .writeBytesField(IDENTITY_KEY_TAG, identityKey.toBytes())
            .writeBytesField(MESSAGE_TAG, inner)
            .toByteArray();
    return new PreKeyMessage(oneTimeKey, baseKey, identityKey, message, encoded);
  }

  /**
   * Decodes a pre-key message, including its embedded normal message.
   *
   * @throws OlmDecodeException if the input or the embedded message is malformed
   */
  public static PreKeyMessage decode(byte[] input) {
    Objects.requireNonNull(input, "input");
    if (input.length == 0) {
      throw new OlmDecodeException("pre-key message: truncated, got 0 bytes");
    }
    int version = input[0] & 0xFF;
    if (version != VERSION) {
      throw new OlmDecodeException(
          "pre-key message: expected version " + VERSION + ", got " + version);
    }
    ProtoReader reader = new ProtoReader(input, 1, input.length, "pre-key message");
    byte[] oneTimeKey = null;
    byte[] baseKey = null;
    byte[] identityKey = null;
    byte[] message = null;
    while (reader.hasMore()) {
      long tag = reader.readTag();
      if (tag == ONE_TIME_KEY_TAG) {
        oneTimeKey = once(oneTimeKey, reader.readLengthDelimited(), "one-time key");
      } else if (tag == BASE_KEY_TAG) {
        baseKey = once(baseKey, reader.readLengthDelimited(), "base key");
      } else if (tag == IDENTITY_KEY_TAG) {
        identityKey = once(identityKey, reader.readLengthDelimited(), "identity key");
      } else if (tag == MESSAGE_TAG) {
        message = once(message, reader.readLengthDelimited(), "message");
      } else {
        reader.skip(tag);
      }
    }
    require(oneTimeKey, "one-time key (tag 0x0A)");
    require(baseKey, "base key (tag 0x12)");
    require(identityKey, "identity key (tag 0x1A)");
    require(message, "message (tag 0x22)");
    return new PreKeyMessage(
        OlmMessage.key(oneTimeKey, "pre-key message: one-time key"),
        OlmMessage.key(baseKey, "pre-key message: base key"),
        OlmMessage.key(identityKey, "pre-key message: identity key"),
        OlmMessage.decode(message),
        input.clone());
  }

  /**
   * Decodes a pre-key message from (unpadded or padded) base64.
   *
   * @throws OlmDecodeException if the message is malformed
   * @throws io.github.mxe2ee.crypto.DecodeException if the base64 is malformed
   */
  public static PreKeyMessage fromBase64(String body) {
    return decode(UnpaddedBase64.decode(body));
  }

  private static byte[] once(byte[] previous, byte[] value, String field) {
    if (previous != null) {
      throw new OlmDecodeException("pre-key message: repeated field " + field);
    }
    return value;
  }

  private static void require(byte[] value, String field) {
    if (value == null) {
      throw new OlmDecodeException("pre-key message: missing field " + field);
    }
  }

  @Override
  public OlmMessageType type() {
    return OlmMessageType.PRE_KEY;
  }

  /** Bob's one-time (or fallback) key E_B that Alice used. */
  public Curve25519PublicKey oneTimeKey() {
    return oneTimeKey;
  }

  /** Alice's base key E_A. */
  public Curve25519PublicKey baseKey() {
    return baseKey;
  }

  /** Alice's Curve25519 identity key I_A. */
  public Curve25519PublicKey identityKey() {
    return identityKey;
  }

  /** The embedded normal message. */
  public OlmMessage message() {
    return message;
  }

  /** The id of the session this message belongs to (see {@link Session#sessionId()}). */
  public String sessionId() {
    return SessionKeys.of(identityKey, baseKey, oneTimeKey).sessionId();
  }

  @Override
  public byte[] toBytes() {
    return encoded.clone();
  }

  @Override
  public String toBase64() {
    return UnpaddedBase64.encode(encoded);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PreKeyMessage other && Arrays.equals(encoded, other.encoded);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "PreKeyMessage{sessionId=" + sessionId() + ", message=" + message + "}";
  }
}
