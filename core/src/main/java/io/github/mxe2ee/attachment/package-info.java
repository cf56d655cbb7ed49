/**
 * Encrypted attachments: the {@link io.github.mxe2ee.attachment.EncryptedFile} model of the spec's
 * {@code EncryptedFile} object and {@link io.github.mxe2ee.attachment.AttachmentCipher}, which
 * encrypts files for upload and verifies and decrypts downloaded ones, in memory or streaming. Pure
 * Java, no network: the caller uploads and downloads the ciphertext itself. Spec: {@code
 * client-server-api/modules/end_to_end_encryption.md}, "Sending encrypted attachments". Usage:
 * {@code docs/ATTACHMENTS.md}.
 */
package io.github.mxe2ee.attachment;
