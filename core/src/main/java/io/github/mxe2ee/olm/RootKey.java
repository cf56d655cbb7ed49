package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Hkdf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A root key R_i and the root-key derivations of olm.md ("Initial setup", "Advancing the root
 * key"). Immutable; no {@code toString} of the bytes.
 */
final class RootKey {
  private static final byte[] ROOT_INFO = "OLM_ROOT".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] RATCHET_INFO = "OLM_RATCHET".getBytes(StandardCharsets.US_ASCII);
  private static final int KEY_LENGTH = 32;

  private final byte[] key;

  RootKey(byte[] key) {
    if (key.length != KEY_LENGTH) {
      throw new IllegalArgumentException("root key must be 32 bytes");
    }
    this.key = key.clone();
  }

  byte[] exposeSecretBytes() {
    return key.clone();
  }

  /** A root key and the first chain key of a new chain. */
  record Step(RootKey rootKey, ChainKey chainKey) {}

  /** R_0 || C_{0,0} = HKDF(0, S, "OLM_ROOT", 64) where S is the 96-byte 3DH secret. */
  static Step fromSharedSecret(byte[] sharedSecret) {
    return split(Hkdf.sha256(null, sharedSecret, ROOT_INFO, 2 * KEY_LENGTH));
  }

  /** R_i || C_{i,0} = HKDF(R_{i-1}, ECDH(T_{i-1}, T_i), "OLM_RATCHET", 64). */
  Step advance(byte[] ratchetSecret) {
    return split(Hkdf.sha256(key, ratchetSecret, RATCHET_INFO, 2 * KEY_LENGTH));
  }

  private static Step split(byte[] okm) {
    RootKey root = new RootKey(Arrays.copyOfRange(okm, 0, KEY_LENGTH));
    ChainKey chain = new ChainKey(Arrays.copyOfRange(okm, KEY_LENGTH, 2 * KEY_LENGTH), 0);
    Arrays.fill(okm, (byte) 0);
    return new Step(root, chain);
  }

  @Override
  public String toString() {
    return "RootKey{}";
  }
}
