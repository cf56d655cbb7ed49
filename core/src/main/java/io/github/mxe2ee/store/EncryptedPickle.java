package io.github.mxe2ee.store;

/**
 * A pickle that was already encrypted with the pickle key (for example by {@code
 * PickleCipher.mxe2ee(key).encrypt(bytes)}) before it reached the store. The store treats it as
 * opaque text and never sees the key nor the plaintext.
 *
 * <p>{@link #toString()} prints only the length: even encrypted pickles stay out of logs.
 *
 * @param ciphertext the encrypted pickle as text (unpadded base64 in mxe2ee's formats); non-empty
 */
public record EncryptedPickle(String ciphertext) {
  /** Validates that the ciphertext is present. */
  public EncryptedPickle {
    Require.nonEmpty(ciphertext, "ciphertext");
  }

  @Override
  public String toString() {
    return "EncryptedPickle[" + ciphertext.length() + " chars]";
  }
}
