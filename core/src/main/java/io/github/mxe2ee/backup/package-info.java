/**
 * Server-side key backup, algorithm {@code m.megolm_backup.v1.curve25519-aes-sha2}.
 *
 * <ul>
 *   <li>{@link io.github.mxe2ee.backup.BackupDecryptionKey}: the Curve25519 secret that decrypts a
 *       backup's {@code session_data};
 *   <li>{@link io.github.mxe2ee.backup.BackupEncryptionKey}: its public half (the backup's {@code
 *       auth_data.public_key}), which encrypts;
 *   <li>{@link io.github.mxe2ee.backup.EncryptedSessionData}: the {@code session_data} object.
 * </ul>
 *
 * <p>A backup key is shown to people in the form of {@link
 * io.github.mxe2ee.crypto.KeyRepresentation}.
 *
 * <p>Spec: {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Server-side
 * key backups" and "Backup algorithm: m.megolm_backup.v1.curve25519-aes-sha2". This package is the
 * cryptography only: the payload is the {@code BackedUpSessionData} JSON as bytes, and talking to
 * {@code /room_keys} is the machine's and the plugin's business.
 */
package io.github.mxe2ee.backup;
