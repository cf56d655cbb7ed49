/**
 * Megolm session key export files: the passphrase-encrypted files that Element writes with "Export
 * E2E room keys" and reads with "Import E2E room keys", so a bot's keys can be handed to a human
 * and a human's keys to a bot.
 *
 * <p>{@link io.github.mxe2ee.export.KeyExportFile} encrypts and decrypts the armored file
 * (PBKDF2-HMAC-SHA-512, AES-256-CTR, HMAC-SHA-256); {@link io.github.mxe2ee.export.ExportedRoomKey}
 * is one {@code ExportedSessionData} entry of its JSON payload, convertible to and from an {@link
 * io.github.mxe2ee.megolm.InboundGroupSession}; {@link io.github.mxe2ee.export.RoomKeyParseResult}
 * reports the entries that parsed and those that did not.
 *
 * <p>Errors: a file that is not a well-formed key export throws {@link
 * io.github.mxe2ee.export.KeyExportDecodeException}; a wrong passphrase or an altered file throws
 * {@link io.github.mxe2ee.crypto.CryptoException}; a bad entry inside a good file becomes a {@link
 * io.github.mxe2ee.export.RoomKeyParseResult.Rejected} (or, from {@code ExportedRoomKey.fromJson},
 * an {@link io.github.mxe2ee.export.ExportedRoomKeyException}). No message contains the passphrase,
 * keys or plaintext.
 *
 * <p>Pure and sans-I/O: nothing here reads files, the clock or the store. Spec: {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Key
 * exports". Usage: {@code docs/KEY_EXPORT.md}.
 */
package io.github.mxe2ee.export;
