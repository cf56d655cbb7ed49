/**
 * Late keys (issue 12, item 3; docs/PLUGIN.md, "Late keys"): encrypted room events whose Megolm key
 * is missing are held, bounded and persisted in the crypto store; when the key arrives later (an
 * {@code m.room_key}, an {@code m.forwarded_room_key}, a backup or key-file import) the event is
 * decrypted and re-emitted with {@code mxe2ee.late: true}. Undecryptable events are counted by
 * cause ({@link io.github.mxe2ee.plugin.latekeys.LateKeyStats}).
 */
package io.github.mxe2ee.plugin.latekeys;
