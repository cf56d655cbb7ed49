package io.github.mxe2ee.plugin.media;

/**
 * A file sent by {@link Attachments#sendFile}: the event that carries it, where its ciphertext
 * lives and its size. Holds no key.
 *
 * @param eventId the id of the {@code m.room.message} event
 * @param contentUri the {@code mxc://} URI of the uploaded ciphertext
 * @param size the file's size in bytes (plaintext and ciphertext have the same size)
 */
public record SentFile(String eventId, MxcUri contentUri, long size) {}
