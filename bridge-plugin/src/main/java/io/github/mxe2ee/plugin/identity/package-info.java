/**
 * The bot's cross-signing identity on the homeserver (docs/IDENTITY.md): the recovery key file and
 * the driver of {@code OlmMachine.bootstrapIdentity} that {@code MatrixE2ee.start()} runs when a
 * recovery key file is configured. Spec: {@code end_to_end_encryption.md}, "Cross-signing", and
 * {@code secrets.md}, "Storage".
 */
package io.github.mxe2ee.plugin.identity;
