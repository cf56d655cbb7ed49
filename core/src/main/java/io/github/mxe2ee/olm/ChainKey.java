package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.HmacSha256;

/**
 * A symmetric chain key C_{i,j}: 32 secret bytes and the index j.
 *
 * <p>Immutable: {@link #next()} returns a new key, so a ratchet can be advanced on a copy. No
 * {@code toString} of the bytes, no {@code hashCode}. See olm.md, "Advancing the chain key" and
 * "Creating a message key".
 */
final class ChainKey {
  private static final byte[] MESSAGE_KEY_SEED = {0x01};
  private static final byte[] CHAIN_KEY_SEED = {0x02};

  private final byte[] key;
  private final long index;

  ChainKey(byte[] key, long index) {
    if (key.length != 32) {
      throw new IllegalArgumentException("chain key must be 32 bytes");
    }
    this.key = key.clone();
    this.index = index;
  }

  long index() {
    return index;
  }

  byte[] exposeSecretBytes() {
    return key.clone();
  }

  /** C_{i,j+1} = HMAC-SHA-256(C_{i,j}, "\x02"). */
  ChainKey next() {
    return new ChainKey(HmacSha256.mac(key, CHAIN_KEY_SEED), index + 1);
  }

  /** M_{i,j} = HMAC-SHA-256(C_{i,j}, "\x01"). */
  MessageKey messageKey() {
    return new MessageKey(HmacSha256.mac(key, MESSAGE_KEY_SEED), index);
  }

  @Override
  public String toString() {
    return "ChainKey{index=" + index + "}";
  }
}
