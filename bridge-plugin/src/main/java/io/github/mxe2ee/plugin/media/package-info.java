/**
 * Encrypted attachments for the plugin: {@link io.github.mxe2ee.plugin.media.Attachments} (send and
 * download files, streaming, hash checked before use, size limits by {@link
 * io.github.mxe2ee.plugin.media.MediaOptions}), the media repository client {@link
 * io.github.mxe2ee.plugin.media.MediaClient} (upload, authenticated download with legacy fallback)
 * and {@link io.github.mxe2ee.plugin.media.MxcUri} (validated {@code mxc://} URIs). See
 * docs/ATTACHMENTS.md.
 */
package io.github.mxe2ee.plugin.media;
