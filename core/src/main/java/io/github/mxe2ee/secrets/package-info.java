/**
 * Secret storage, algorithm {@code m.secret_storage.v1.aes-hmac-sha2}: the keys that protect
 * secrets kept in account data (cross-signing private keys, the key backup's decryption key), their
 * descriptions with the key check, passphrase-derived keys, and encrypted secrets.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/client-server-api/modules/secrets.md}, "Storage"
 * (key storage, secret storage, key representation, deriving keys from passphrases). Cryptography
 * only: reading and writing account data is the caller's. The text form of a key is {@link
 * io.github.mxe2ee.crypto.KeyRepresentation}.
 */
package io.github.mxe2ee.secrets;
