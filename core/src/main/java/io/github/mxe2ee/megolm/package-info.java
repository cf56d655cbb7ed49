/**
 * Megolm, the group ratchet of Matrix room encryption: {@link
 * io.github.mxe2ee.megolm.OutboundGroupSession} encrypts, {@link
 * io.github.mxe2ee.megolm.InboundGroupSession} decrypts; {@link io.github.mxe2ee.megolm.SessionKey}
 * (signed, v2), {@link io.github.mxe2ee.megolm.ExportedSessionKey} (unsigned, v1) and {@link
 * io.github.mxe2ee.megolm.MegolmMessage} (v3) are the wire formats.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}. Byte-compatible with
 * libolm 3.2 and vodozemac (tested against their vectors), including libolm's pickles, which can be
 * imported; mxe2ee persists sessions in its own versioned, authenticated pickle format.
 *
 * <p>Malformed input throws {@link io.github.mxe2ee.megolm.MegolmDecodeException}; a message that
 * fails to authenticate or decrypt throws {@link io.github.mxe2ee.megolm.MegolmDecryptionException}
 * with a {@link io.github.mxe2ee.megolm.MegolmDecryptionException.Reason}. Neither changes a
 * session. Nothing here prints key, ratchet or plaintext bytes.
 */
package io.github.mxe2ee.megolm;
