/**
 * mxe2ee's own arithmetic for Curve25519 and edwards25519 (RFC 7748, RFC 8032), used by the key
 * classes of {@code io.github.mxe2ee.crypto}; not an API for applications.
 *
 * <ul>
 *   <li>{@link io.github.mxe2ee.crypto.curve.Field25519}: GF(2^255 - 19) in five 51-bit limbs,
 *       constant time, and {@link io.github.mxe2ee.crypto.curve.FieldInverse}, its inversion;
 *   <li>{@link io.github.mxe2ee.crypto.curve.Scalar25519}: integers modulo the group order L and
 *       the digit recodings of scalar multiplication;
 *   <li>{@link io.github.mxe2ee.crypto.curve.EdwardsPoint}: the group law in extended coordinates;
 *   <li>{@link io.github.mxe2ee.crypto.curve.X25519Ladder}: X25519 agreements (Montgomery ladder);
 *   <li>{@link io.github.mxe2ee.crypto.curve.FixedBase}: constant-time multiples of the base point
 *       (Ed25519 and X25519 public keys, signature nonces);
 *   <li>{@link io.github.mxe2ee.crypto.curve.EdDsa}: Ed25519 signing;
 *   <li>{@link io.github.mxe2ee.crypto.curve.VerificationKey}: Ed25519 verification.
 * </ul>
 *
 * <p><b>Constant-time review.</b> Everything that touches a secret (the X25519 ladder, fixed-base
 * multiplication, signing, scalar reduction and encoding) runs without branches or memory indexing
 * on secret values: conditional swaps, moves and table look-ups use masks, and the integer and
 * floating-point multiplications (on integer-valued doubles, far from the subnormal range) take a
 * fixed number of cycles on x86-64 and AArch64. Field inversion of a secret is variable time but
 * blinded: {@link io.github.mxe2ee.crypto.curve.FieldInverse} inverts {@code λ·z} for a secret
 * random λ, so its timing depends only on a uniformly distributed value. Only point decoding and
 * verification branch on their inputs, and they see public data only. Every result is checked
 * against Bouncy Castle's independent implementation and the RFC test vectors (see the tests of
 * this package).
 */
package io.github.mxe2ee.crypto.curve;
