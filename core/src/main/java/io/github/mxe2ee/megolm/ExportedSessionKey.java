package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;

/**
 * A Megolm session in the unsigned export format (version 1), as found in key exports, key backups
 * and forwarded room keys.
 *
 * <pre>
 * +---+----+--------+--------+--------+--------+------+
 * | V | i  | R(i,0) | R(i,1) | R(i,2) | R(i,3) | Kpub |
 * +---+----+--------+--------+--------+--------+------+
 * 0   1    5        37       69      101      133    165   bytes
 *
 * V = 0x01; i = big-endian unsigned 32-bit ratchet index; Kpub = Ed25519 signing key (session id)
 * </pre>
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Session export format".
 * There is no signature: whoever delivered it vouches for it, so a session imported from here is
 * not marked as verified.
 *
 * <p>Contract: immutable and thread-safe; arguments must not be null. Holds the secret ratchet:
 * {@link #toString()} shows only the session id and index, and there is no {@code equals}/{@code
 * hashCode}. Decoding throws {@link MegolmDecodeException} on bad base64, a version other than 1,
 * or a length other than 165.
 */
public final class ExportedSessionKey {
  /** Version byte of the export format. */
  public static final int VERSION = 1;

  /** Exact encoded length. */
  public static final int LENGTH = SessionKeyCodec.UNSIGNED_LENGTH;

  private static final String WHAT = "Megolm exported session key";

  private final Ratchet ratchet;
  private final Ed25519PublicKey signingKey;

  private ExportedSessionKey(Ratchet ratchet, Ed25519PublicKey signingKey) {
    this.ratchet = ratchet;
    this.signingKey = signingKey;
  }

  static ExportedSessionKey of(Ratchet ratchet, Ed25519PublicKey signingKey) {
    return new ExportedSessionKey(ratchet.copy(), signingKey);
  }

  /** Decodes the raw 165 bytes. */
  public static ExportedSessionKey fromBytes(byte[] bytes) {
    SessionKeyCodec.checkShape(bytes, VERSION, LENGTH, WHAT);
    return new ExportedSessionKey(
        SessionKeyCodec.readRatchet(bytes), SessionKeyCodec.readPublicKey(bytes, WHAT));
  }

  /** Decodes the unpadded (or padded) base64 form. */
  public static ExportedSessionKey fromBase64(String base64) {
    return fromBytes(SessionKeyCodec.decodeBase64(base64, WHAT));
  }

  /** The encoded 165 bytes (a new array holding the secret ratchet). */
  public byte[] toBytes() {
    return SessionKeyCodec.write(VERSION, ratchet, signingKey, LENGTH);
  }

  /** The unpadded base64 of {@link #toBytes()}. */
  public String toBase64() {
    return UnpaddedBase64.encode(toBytes());
  }

  /** The ratchet index this key starts at (the first index it can decrypt), 0..2^32-1. */
  public long messageIndex() {
    return ratchet.indexAsLong();
  }

  /** The Ed25519 signing key of the session. */
  public Ed25519PublicKey signingKey() {
    return signingKey;
  }

  /** The session id: unpadded base64 of the signing key. */
  public String sessionId() {
    return signingKey.toBase64();
  }

  /** A copy of the ratchet, for the session code. */
  Ratchet ratchet() {
    return ratchet.copy();
  }

  @Override
  public String toString() {
    return "ExportedSessionKey[sessionId=" + sessionId() + ", index=" + messageIndex() + "]";
  }
}
