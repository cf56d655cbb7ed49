package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;

/** Our current ratchet key pair T_i and sending chain key. Immutable. */
final class SenderChain {
  private final Curve25519SecretKey ratchetKey;
  private final Curve25519PublicKey ratchetPublicKey;
  private final ChainKey chainKey;

  SenderChain(Curve25519SecretKey ratchetKey, ChainKey chainKey) {
    this(ratchetKey, ratchetKey.publicKey(), chainKey);
  }

  private SenderChain(
      Curve25519SecretKey ratchetKey, Curve25519PublicKey ratchetPublicKey, ChainKey chainKey) {
    this.ratchetKey = ratchetKey;
    this.ratchetPublicKey = ratchetPublicKey;
    this.chainKey = chainKey;
  }

  Curve25519SecretKey ratchetKey() {
    return ratchetKey;
  }

  Curve25519PublicKey ratchetPublicKey() {
    return ratchetPublicKey;
  }

  ChainKey chainKey() {
    return chainKey;
  }

  SenderChain advanced() {
    return new SenderChain(ratchetKey, ratchetPublicKey, chainKey.next());
  }

  @Override
  public String toString() {
    return "SenderChain{ratchetKey=" + ratchetPublicKey + ", index=" + chainKey.index() + "}";
  }
}
