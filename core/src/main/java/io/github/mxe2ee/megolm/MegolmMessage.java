package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519Signature;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Arrays;

/**
 * An encrypted, authenticated and signed Megolm group message (version 3, truncated MAC).
 *
 * <pre>
 * +---+------------------------------------+-----------+------------------+
 * | V | Payload Bytes                      | MAC Bytes | Signature Bytes  |
 * +---+------------------------------------+-----------+------------------+
 * 0   1                                    N          N+8                N+72   bytes
 *
 * V = 0x03. Payload: protobuf-style key/value pairs
 *   0x08 varint  Message-Index  ratchet index i (unsigned 32-bit)
 *   0x12 length  Cipher-Text    AES-256-CBC/PKCS#7 ciphertext X_i
 * MAC:       HMAC-SHA-256(HMAC_KEY_i, bytes 0..N) truncated to 8 bytes
 * Signature: Ed25519 over bytes 0..N+8 with the session's signing key
 * </pre>
 *
 * <p>Encoding always writes the index first, then the ciphertext (index 0 included: libolm requires
 * it). Decoding accepts the two fields in either order and skips unknown varint (wire type 0) and
 * length-delimited (wire type 2) fields, as libolm does; other wire types, duplicate fields and
 * missing fields are rejected. The MAC and signature are checked against the bytes exactly as
 * received.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Message format".
 *
 * <p>Contract: immutable and thread-safe; arguments must not be null; byte arrays are copied in and
 * out. Decoding throws {@link MegolmDecodeException}; it does not check the MAC or signature (see
 * {@link InboundGroupSession#decrypt(MegolmMessage)}). {@link #toString()} shows only the index.
 */
public final class MegolmMessage {
  /** The only Megolm message version Matrix uses (8-byte MAC). */
  public static final int VERSION = 3;

  /** Length of the truncated HMAC-SHA-256 (spec: "truncated to 64 bits"). */
  public static final int MAC_LENGTH = 8;

  /** Length of an Ed25519 signature. */
  public static final int SIGNATURE_LENGTH = 64;

  static final int INDEX_TAG = 0x08;
  static final int CIPHERTEXT_TAG = 0x12;

  /** Version byte plus the MAC and signature trailer: nothing shorter can be a message. */
  private static final int MIN_LENGTH = 1 + MAC_LENGTH + SIGNATURE_LENGTH;

  private final byte[] encoded;
  private final int messageIndex;
  private final int ciphertextOffset;
  private final int ciphertextLength;

  private MegolmMessage(byte[] encoded, int messageIndex, int ciphertextOffset, int length) {
    this.encoded = encoded;
    this.messageIndex = messageIndex;
    this.ciphertextOffset = ciphertextOffset;
    this.ciphertextLength = length;
  }

  /**
   * Decodes a message from its unpadded (or padded) base64 form as sent in {@code
   * m.room.encrypted}.
   *
   * @throws MegolmDecodeException on bad base64 or any {@link #fromBytes(byte[])} failure
   */
  public static MegolmMessage fromBase64(String base64) {
    byte[] bytes;
    try {
      bytes = UnpaddedBase64.decode(base64);
    } catch (DecodeException e) {
      throw new MegolmDecodeException("Megolm message is not valid base64", e);
    }
    return parse(bytes);
  }

  /**
   * Decodes a message from its raw bytes (copied).
   *
   * @throws MegolmDecodeException if truncated, of another version, with a bad varint, with a
   *     missing/duplicate field or an unsupported wire type
   */
  public static MegolmMessage fromBytes(byte[] bytes) {
    return parse(bytes.clone());
  }

  private static MegolmMessage parse(byte[] bytes) {
    if (bytes.length == 0) {
      throw new MegolmDecodeException("Megolm message is empty: expected a version byte");
    }
    int version = bytes[0] & 0xff;
    if (version != VERSION) {
      throw new MegolmDecodeException(
          "Megolm message version: expected " + VERSION + ", got " + version);
    }
    if (bytes.length < MIN_LENGTH) {
      throw new MegolmDecodeException(
          "Megolm message truncated: expected at least "
              + MIN_LENGTH
              + " bytes, got "
              + bytes.length);
    }
    Payload payload = Payload.decode(bytes, bytes.length - MAC_LENGTH - SIGNATURE_LENGTH);
    return new MegolmMessage(
        bytes, payload.messageIndex, payload.ciphertextOffset, payload.ciphertextLength);
  }

  /**
   * Builds a message whose MAC and signature are computed by the caller over {@link
   * #macInputLength(byte[])} and {@link #signatureInputLength(byte[])} bytes of the returned
   * buffer, then {@link #sealed(byte[], int, int)}.
   */
  static byte[] unsealed(int messageIndex, byte[] ciphertext) {
    int bodyLength =
        1
            + 1
            + Varint.length(messageIndex)
            + 1
            + Varint.length(ciphertext.length)
            + ciphertext.length;
    byte[] out = new byte[bodyLength + MAC_LENGTH + SIGNATURE_LENGTH];
    int pos = 0;
    out[pos++] = VERSION;
    out[pos++] = INDEX_TAG;
    pos = Varint.write(messageIndex, out, pos);
    out[pos++] = CIPHERTEXT_TAG;
    pos = Varint.write(ciphertext.length, out, pos);
    System.arraycopy(ciphertext, 0, out, pos, ciphertext.length);
    return out;
  }

  /**
   * Wraps a buffer from {@link #unsealed} after its MAC and signature were written (not copied).
   */
  static MegolmMessage sealed(byte[] encoded, int messageIndex, int ciphertextLength) {
    int ciphertextOffset = macInputLength(encoded) - ciphertextLength;
    return new MegolmMessage(encoded, messageIndex, ciphertextOffset, ciphertextLength);
  }

  /** Number of leading bytes covered by the MAC (version and payload). */
  static int macInputLength(byte[] encoded) {
    return encoded.length - MAC_LENGTH - SIGNATURE_LENGTH;
  }

  /** Number of leading bytes covered by the signature (everything before it). */
  static int signatureInputLength(byte[] encoded) {
    return encoded.length - SIGNATURE_LENGTH;
  }

  /** The ratchet index {@code i} the message was encrypted at, 0..2^32-1. */
  public long messageIndex() {
    return Integer.toUnsignedLong(messageIndex);
  }

  int rawMessageIndex() {
    return messageIndex;
  }

  /** A copy of the AES-256-CBC ciphertext {@code X_i}. */
  public byte[] ciphertext() {
    return Arrays.copyOfRange(encoded, ciphertextOffset, ciphertextOffset + ciphertextLength);
  }

  /** A copy of the 8-byte truncated MAC. */
  public byte[] mac() {
    int from = macInputLength(encoded);
    return Arrays.copyOfRange(encoded, from, from + MAC_LENGTH);
  }

  /** The Ed25519 signature over everything before it. */
  public Ed25519Signature signature() {
    return Ed25519Signature.fromBytes(
        Arrays.copyOfRange(encoded, signatureInputLength(encoded), encoded.length));
  }

  /** The exact bytes as encoded or received (copied). */
  public byte[] toBytes() {
    return encoded.clone();
  }

  /** The unpadded base64 of {@link #toBytes()}, as sent on the wire. */
  public String toBase64() {
    return UnpaddedBase64.encode(encoded);
  }

  /** Direct access to the encoded bytes for the session code; callers must not modify them. */
  byte[] encodedBytes() {
    return encoded;
  }

  @Override
  public String toString() {
    return "MegolmMessage[version=" + VERSION + ", index=" + messageIndex() + "]";
  }

  /** The decoded payload fields: an index and where the ciphertext sits in the buffer. */
  static final class Payload {
    final int messageIndex;
    final int ciphertextOffset;
    final int ciphertextLength;

    private Payload(int messageIndex, int ciphertextOffset, int ciphertextLength) {
      this.messageIndex = messageIndex;
      this.ciphertextOffset = ciphertextOffset;
      this.ciphertextLength = ciphertextLength;
    }

    /** Decodes the key/value pairs in {@code bytes[1..end)} (byte 0 is the version). */
    static Payload decode(byte[] bytes, int end) {
      Varint.Reader reader = new Varint.Reader(bytes, 1, end);
      Long index = null;
      int ciphertextOffset = -1;
      int ciphertextLength = -1;
      while (reader.hasMore()) {
        long tag = reader.readU32("field tag");
        if (tag == INDEX_TAG) {
          if (index != null) {
            throw new MegolmDecodeException("Megolm message has a duplicate message index field");
          }
          index = reader.readU32("message index");
        } else if (tag == CIPHERTEXT_TAG) {
          if (ciphertextOffset >= 0) {
            throw new MegolmDecodeException("Megolm message has a duplicate ciphertext field");
          }
          ciphertextLength = reader.readLength("ciphertext");
          ciphertextOffset = reader.skip(ciphertextLength, "ciphertext");
        } else {
          reader.skipUnknownField(tag);
        }
      }
      if (index == null) {
        throw new MegolmDecodeException("Megolm message lacks the message index field (tag 0x08)");
      }
      if (ciphertextOffset < 0) {
        throw new MegolmDecodeException("Megolm message lacks the ciphertext field (tag 0x12)");
      }
      return new Payload(index.intValue(), ciphertextOffset, ciphertextLength);
    }
  }
}
