package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.Arrays;

/**
 * A Megolm session in the signed session-sharing format (version 2): the {@code session_key} of an
 * {@code m.room_key} event.
 *
 * <pre>
 * +---+----+--------+--------+--------+--------+------+-----------+
 * | V | i  | R(i,0) | R(i,1) | R(i,2) | R(i,3) | Kpub | Signature |
 * +---+----+--------+--------+--------+--------+------+-----------+
 * 0   1    5        37       69      101      133    165         229   bytes
 *
 * V = 0x02; i = big-endian unsigned 32-bit ratchet index; Kpub = Ed25519 signing key (session id);
 * Signature = Ed25519 by Kpub over bytes 0..165
 * </pre>
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Session sharing format".
 *
 * <p>Contract: immutable and thread-safe; arguments must not be null. Every instance carries a
 * signature that verified (decoding checks it, creation signs). Holds the secret ratchet: {@link
 * #toString()} shows only the session id and index, and there is no {@code equals}/{@code
 * hashCode}. Decoding throws {@link MegolmDecodeException} on bad base64, a version other than 2, a
 * length other than 229, an invalid public key or a signature that does not verify.
 */
public final class SessionKey {
  /** Version byte of the session-sharing format. */
  public static final int VERSION = 2;

  /** Length of the Ed25519 signature. */
  public static final int SIGNATURE_LENGTH = 64;

  /** Exact encoded length. */
  public static final int LENGTH = SessionKeyCodec.UNSIGNED_LENGTH + SIGNATURE_LENGTH;

  private static final String WHAT = "Megolm session key";

  private final Ratchet ratchet;
  private final Ed25519PublicKey signingKey;
  private final Ed25519Signature signature;

  private SessionKey(Ratchet ratchet, Ed25519PublicKey signingKey, Ed25519Signature signature) {
    this.ratchet = ratchet;
    this.signingKey = signingKey;
    this.signature = signature;
  }

  /** Signs the current ratchet state of an outbound session. */
  static SessionKey sign(Ratchet ratchet, Ed25519SecretKey secretKey, Ed25519PublicKey publicKey) {
    byte[] unsigned =
        SessionKeyCodec.write(VERSION, ratchet, publicKey, SessionKeyCodec.UNSIGNED_LENGTH);
    Ed25519Signature signature = secretKey.sign(unsigned);
    Arrays.fill(unsigned, (byte) 0);
    return new SessionKey(ratchet.copy(), publicKey, signature);
  }

  /** Decodes the raw 229 bytes and verifies the signature. */
  public static SessionKey fromBytes(byte[] bytes) {
    SessionKeyCodec.checkShape(bytes, VERSION, LENGTH, WHAT);
    Ed25519PublicKey signingKey = SessionKeyCodec.readPublicKey(bytes, WHAT);
    Ed25519Signature signature =
        Ed25519Signature.fromBytes(
            Arrays.copyOfRange(bytes, SessionKeyCodec.UNSIGNED_LENGTH, LENGTH));
    if (!signingKey.verify(bytes, 0, SessionKeyCodec.UNSIGNED_LENGTH, signature)) {
      throw new MegolmDecodeException(
          WHAT + " signature does not verify with its key " + signingKey.toBase64());
    }
    return new SessionKey(SessionKeyCodec.readRatchet(bytes), signingKey, signature);
  }

  /** Decodes the unpadded (or padded) base64 form and verifies the signature. */
  public static SessionKey fromBase64(String base64) {
    return fromBytes(SessionKeyCodec.decodeBase64(base64, WHAT));
  }

  /** The encoded 229 bytes (a new array holding the secret ratchet). */
  public byte[] toBytes() {
    byte[] out = SessionKeyCodec.write(VERSION, ratchet, signingKey, LENGTH);
    System.arraycopy(
        signature.toBytes(), 0, out, SessionKeyCodec.UNSIGNED_LENGTH, SIGNATURE_LENGTH);
    return out;
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

  /** The signature over the first 165 bytes. */
  public Ed25519Signature signature() {
    return signature;
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
    return "SessionKey[sessionId=" + sessionId() + ", index=" + messageIndex() + "]";
  }
}
