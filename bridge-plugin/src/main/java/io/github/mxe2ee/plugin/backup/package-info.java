/**
 * Server-side key backup on by default (docs/KEY_BACKUP.md): the driver of {@code
 * OlmMachine.bootstrapKeyBackup} that {@code MatrixE2ee.start()} runs after the identity bootstrap
 * when a recovery key file is configured. Spec: {@code end_to_end_encryption.md}, "Server-side key
 * backups", and {@code secrets.md}.
 */
package io.github.mxe2ee.plugin.backup;
