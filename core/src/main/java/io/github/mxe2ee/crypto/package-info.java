/**
 * Cryptographic primitives: X25519 and Ed25519 on mxe2ee's own constant-time curve code ({@code
 * io.github.mxe2ee.crypto.curve}), AES, HMAC, SHA and PBKDF2 on the JDK's intrinsified JCA, HKDF,
 * unpadded base64, and pickle encryption. Secret holders never print their bytes; every class is
 * thread-safe.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/olm.md} (primitives used by Olm and
 * Megolm) and the client-server API appendix on unpadded base64.
 */
package io.github.mxe2ee.crypto;
