package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Arrays;
import java.util.Objects;

/**
 * A normal Olm message (version 3): pure encode/decode, no cryptography.
 *
 * <pre>
 * +---------+------------------------------------------------------+-----------+
 * | version | payload (protobuf-style fields, any order)           | MAC       |
 * | 1 byte  |                                                      | 8 bytes   |
 * +---------+------------------------------------------------------+-----------+
 *   0x03
 *
 * payload fields (as written by libolm and by us, in this order):
 * +------+-------------+---------+-------------------------------------------+
 * | tag  | name        | type    | value                                     |
 * +------+-------------+---------+-------------------------------------------+
 * | 0x0A | ratchet key | bytes   | varint length (32) + Curve25519 key T_i   |
 * | 0x10 | chain index | varint  | j, 0 .. 2^32-1 (always written, even 0)   |
 * | 0x22 | ciphertext  | bytes   | varint length + AES-256-CBC ciphertext    |
 * +------+-------------+---------+-------------------------------------------+
 * </pre>
 *
 * <p>The MAC is the first 8 bytes of HMAC-SHA-256 over every byte before it (version and payload,
 * exactly as received). The decoder accepts fields in any order and skips unknown fields; it
 * rejects a missing or repeated known field, a ratchet key that is not 32 bytes, a chain index
 * above 2^32-1 (libolm's counter is 32 bits), malformed varints and truncation.
 *
 * <p>Immutable and thread-safe; byte arrays are copied in and out. Equality is by encoded bytes.
 * See {@code shared/spec/matrix-spec/content/olm-megolm/olm.md}, "Normal Messages".
 */
public final class OlmMessage implements AnyOlmMessage {
  /** The only protocol version Matrix uses ("\x03"). */
  public static final int VERSION = 3;

  /** Olm v1 truncates HMAC-SHA-256 to 8 bytes (olm.md, "Olm Authenticated Encryption"). */
  public static final int MAC_LENGTH = 8;

  /** Curve25519 public keys are 32 bytes. */
  static final int KEY_LENGTH = 32;

  /** libolm stores the chain index in a uint32; larger indices cannot come from a peer. */
  public static final long MAX_CHAIN_INDEX = 0xFFFF_FFFFL;

  static final int RATCHET_KEY_TAG = 0x0A;
  static final int CHAIN_INDEX_TAG = 0x10;
  static final int CIPHERTEXT_TAG = 0x22;

  private final Curve25519PublicKey ratchetKey;
  private final long chainIndex;
  private final byte[] ciphertext;
  private final byte[] encoded;

  private OlmMessage(
      Curve25519PublicKey ratchetKey, long chainIndex, byte[] ciphertext, byte[] encoded) {
    this.ratchetKey = ratchetKey;
    this.chainIndex = chainIndex;
    this.ciphertext = ciphertext;
    this.encoded = encoded;
  }

  /**
   * Encodes the authenticated part of a message: version and payload, without the MAC.
   *
   * @param chainIndex 0 .. {@link #MAX_CHAIN_INDEX}
   */
  static byte[] encodeWithoutMac(
      Curve25519PublicKey ratchetKey, long chainIndex, byte[] ciphertext) {
    return encodeRawWithoutMac(ratchetKey.toBytes(), chainIndex, ciphertext);
  }

  /** Like {@link #encodeWithoutMac} with the ratchet key as raw bytes of any length. */
  static byte[] encodeRawWithoutMac(byte[] ratchetKey, long chainIndex, byte[] ciphertext) {
    checkChainIndex(chainIndex);
    // Version, two tags with varint lengths, the index varint: at most 16 bytes of framing.
    return new ProtoWriter(ratchetKey.length + ciphertext.length + 16 + MAC_LENGTH)
        .writeByte(VERSION)
        .writeBytesField(RATCHET_KEY_TAG, ratchetKey)
        .writeVarintField(CHAIN_INDEX_TAG, chainIndex)
        .writeBytesField(CIPHERTEXT_TAG, ciphertext)
        .toByteArray();
  }

  /**
   * Builds a message from its parts and an 8-byte MAC over {@link #encodeWithoutMac}.
   *
   * @throws IllegalArgumentException if the MAC is not 8 bytes or the index is out of range
   */
  public static OlmMessage of(
      Curve25519PublicKey ratchetKey, long chainIndex, byte[] ciphertext, byte[] mac) {
    Objects.requireNonNull(ratchetKey, "ratchetKey");
    if (mac.length != MAC_LENGTH) {
      throw new IllegalArgumentException(
          "MAC length: expected " + MAC_LENGTH + ", got " + mac.length);
    }
    byte[] body = encodeWithoutMac(ratchetKey, chainIndex, ciphertext);
    return assemble(ratchetKey, chainIndex, ciphertext.clone(), body, mac);
  }

  /**
   * Builds a message from a body made by {@link #encodeWithoutMac} with the same parts, and its MAC
   * (the first 8 bytes of {@code mac} are used); takes ownership of the arrays.
   */
  static OlmMessage assemble(
      Curve25519PublicKey ratchetKey, long chainIndex, byte[] ciphertext, byte[] body, byte[] mac) {
    byte[] encoded = Arrays.copyOf(body, body.length + MAC_LENGTH);
    System.arraycopy(mac, 0, encoded, body.length, MAC_LENGTH);
    return new OlmMessage(ratchetKey, chainIndex, ciphertext, encoded);
  }

  /**
   * Decodes a normal message.
   *
   * @throws OlmDecodeException if the input is malformed (see the class comment)
   */
  public static OlmMessage decode(byte[] input) {
    Fields fields = parse(input);
    return new OlmMessage(
        key(fields.ratchetKey(), "Olm message: ratchet key"),
        fields.chainIndex(),
        fields.ciphertext(),
        input.clone());
  }

  /**
   * The fields of a structurally valid message, before the ratchet key length is checked.
   *
   * @param ratchetKey the ratchet key bytes (any length)
   * @param chainIndex the chain index
   * @param ciphertext the ciphertext
   * @param mac the 8-byte MAC
   */
  record Fields(byte[] ratchetKey, long chainIndex, byte[] ciphertext, byte[] mac) {}

  /** Parses the layout (version, fields, MAC) without checking key lengths. */
  static Fields parse(byte[] input) {
    Objects.requireNonNull(input, "input");
    if (input.length == 0) {
      throw new OlmDecodeException("Olm message: truncated, got 0 bytes");
    }
    int version = input[0] & 0xFF;
    if (version != VERSION) {
      throw new OlmDecodeException("Olm message: expected version " + VERSION + ", got " + version);
    }
    if (input.length < 1 + MAC_LENGTH) {
      throw new OlmDecodeException(
          "Olm message: truncated, need at least "
              + (1 + MAC_LENGTH)
              + " bytes, got "
              + input.length);
    }
    ProtoReader reader = new ProtoReader(input, 1, input.length - MAC_LENGTH, "Olm message");
    byte[] ratchetKey = null;
    byte[] ciphertext = null;
    long chainIndex = -1;
    while (reader.hasMore()) {
      long tag = reader.readTag();
      if (tag == RATCHET_KEY_TAG) {
        ratchetKey = once(ratchetKey, reader.readLengthDelimited(), "ratchet key");
      } else if (tag == CHAIN_INDEX_TAG) {
        if (chainIndex >= 0) {
          throw new OlmDecodeException("Olm message: repeated field chain index");
        }
        chainIndex = reader.readVarint();
        if (chainIndex < 0 || chainIndex > MAX_CHAIN_INDEX) {
          throw new OlmDecodeException(
              "Olm message: chain index out of range, expected at most "
                  + MAX_CHAIN_INDEX
                  + ", got "
                  + Long.toUnsignedString(chainIndex));
        }
      } else if (tag == CIPHERTEXT_TAG) {
        ciphertext = once(ciphertext, reader.readLengthDelimited(), "ciphertext");
      } else {
        reader.skip(tag);
      }
    }
    if (ratchetKey == null) {
      throw new OlmDecodeException("Olm message: missing field ratchet key (tag 0x0A)");
    }
    if (chainIndex < 0) {
      throw new OlmDecodeException("Olm message: missing field chain index (tag 0x10)");
    }
    if (ciphertext == null) {
      throw new OlmDecodeException("Olm message: missing field ciphertext (tag 0x22)");
    }
    byte[] mac = Arrays.copyOfRange(input, input.length - MAC_LENGTH, input.length);
    return new Fields(ratchetKey, chainIndex, ciphertext, mac);
  }

  /**
   * Decodes a normal message from (unpadded or padded) base64.
   *
   * @throws OlmDecodeException if the message is malformed
   * @throws io.github.mxe2ee.crypto.DecodeException if the base64 is malformed
   */
  public static OlmMessage fromBase64(String body) {
    return decode(UnpaddedBase64.decode(body));
  }

  static byte[] once(byte[] previous, byte[] value, String field) {
    if (previous != null) {
      throw new OlmDecodeException("Olm message: repeated field " + field);
    }
    return value;
  }

  static Curve25519PublicKey key(byte[] bytes, String field) {
    if (bytes.length != KEY_LENGTH) {
      throw new OlmDecodeException(
          field + ": expected " + KEY_LENGTH + " bytes, got " + bytes.length);
    }
    return Curve25519PublicKey.fromBytes(bytes);
  }

  private static void checkChainIndex(long chainIndex) {
    if (chainIndex < 0 || chainIndex > MAX_CHAIN_INDEX) {
      throw new IllegalArgumentException("chain index out of range: " + chainIndex);
    }
  }

  @Override
  public OlmMessageType type() {
    return OlmMessageType.NORMAL;
  }

  /** The sender's current ratchet key T_i. */
  public Curve25519PublicKey ratchetKey() {
    return ratchetKey;
  }

  /** The chain index j of this message. */
  public long chainIndex() {
    return chainIndex;
  }

  /** The AES-256-CBC ciphertext (a copy). */
  public byte[] ciphertext() {
    return ciphertext.clone();
  }

  /** The truncated MAC, the last 8 bytes of the encoding (a copy). */
  public byte[] mac() {
    return Arrays.copyOfRange(encoded, encoded.length - MAC_LENGTH, encoded.length);
  }

  /** The bytes the MAC covers: everything before it, exactly as received. */
  byte[] authenticatedBytes() {
    return Arrays.copyOf(encoded, encoded.length - MAC_LENGTH);
  }

  @Override
  public byte[] toBytes() {
    return encoded.clone();
  }

  /** The encoded message, not copied: callers in this package must not modify it. */
  byte[] rawBytes() {
    return encoded;
  }

  @Override
  public String toBase64() {
    return UnpaddedBase64.encode(encoded);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OlmMessage other && Arrays.equals(encoded, other.encoded);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encoded);
  }

  @Override
  public String toString() {
    return "OlmMessage{ratchetKey="
        + ratchetKey
        + ", chainIndex="
        + chainIndex
        + ", ciphertextLength="
        + ciphertext.length
        + "}";
  }
}
