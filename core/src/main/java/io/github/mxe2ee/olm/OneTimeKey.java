package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;

/**
 * A one-time or fallback Curve25519 key held by an {@link Account}: its numeric id, key pair and
 * whether it has been published. Immutable.
 */
final class OneTimeKey {
  private final long id;
  private final Curve25519SecretKey secretKey;
  private final Curve25519PublicKey publicKey;
  private final boolean published;

  OneTimeKey(long id, Curve25519SecretKey secretKey, boolean published) {
    this(id, secretKey, secretKey.publicKey(), published);
  }

  private OneTimeKey(
      long id, Curve25519SecretKey secretKey, Curve25519PublicKey publicKey, boolean published) {
    this.id = id;
    this.secretKey = secretKey;
    this.publicKey = publicKey;
    this.published = published;
  }

  long id() {
    return id;
  }

  /**
   * The key id as libolm writes it: unpadded base64 of the id as a 4-byte big-endian integer
   * ({@code 1 -> "AAAAAQ"}).
   */
  String keyId() {
    return keyId(id);
  }

  static String keyId(long id) {
    byte[] bytes = {(byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id};
    return UnpaddedBase64.encode(bytes);
  }

  Curve25519SecretKey secretKey() {
    return secretKey;
  }

  Curve25519PublicKey publicKey() {
    return publicKey;
  }

  boolean published() {
    return published;
  }

  OneTimeKey markedPublished() {
    return published ? this : new OneTimeKey(id, secretKey, publicKey, true);
  }

  @Override
  public String toString() {
    return "OneTimeKey{id="
        + keyId()
        + ", publicKey="
        + publicKey
        + ", published="
        + published
        + "}";
  }
}
