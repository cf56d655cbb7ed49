/**
 * The encrypt-and-send flow of the plugin (issue 12 item 4): who gets the room key ({@link
 * io.github.mxe2ee.plugin.send.RoomMembers}, followed from sync state with one {@code /members}
 * fetch per room), one send at a time per room so that concurrent sends share one key-sharing round
 * and keep their order ({@link io.github.mxe2ee.plugin.send.RoomSendQueue}), and the send itself
 * with retries that never change the ciphertext of a transaction id ({@link
 * io.github.mxe2ee.plugin.send.RoomSender}). Used by {@link io.github.mxe2ee.plugin.MatrixE2ee};
 * the types here are the plugin's parts, not an API for bots.
 */
package io.github.mxe2ee.plugin.send;
