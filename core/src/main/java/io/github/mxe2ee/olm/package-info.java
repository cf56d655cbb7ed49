/**
 * Olm: the double-ratchet protocol for encrypted to-device messages, byte-compatible with libolm
 * 3.2.16 and vodozemac ({@code shared/spec/matrix-spec/content/olm-megolm/olm.md}).
 *
 * <ul>
 *   <li>{@link io.github.mxe2ee.olm.Account}: identity keys, one-time and fallback keys, session
 *       creation;
 *   <li>{@link io.github.mxe2ee.olm.Session}: encrypt and decrypt; state changes only after a
 *       successful decrypt;
 *   <li>{@link io.github.mxe2ee.olm.OlmMessage} and {@link io.github.mxe2ee.olm.PreKeyMessage}: the
 *       wire formats, pure encode/decode;
 *   <li>pickles: mxe2ee's own versioned, authenticated format for accounts and sessions, and import
 *       of libolm pickles.
 * </ul>
 *
 * <p>Malformed input throws {@link io.github.mxe2ee.olm.OlmDecodeException} (kind "decode"); a
 * well-formed message that cannot be decrypted throws {@link
 * io.github.mxe2ee.olm.OlmDecryptionException} (kind "crypto") with a reason. Live objects are not
 * thread-safe; messages and keys are immutable.
 */
package io.github.mxe2ee.olm;
