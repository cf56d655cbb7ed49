package io.github.mxe2ee.crypto.curve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.MessageDigest;
import java.util.Random;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.junit.jupiter.api.Test;

/**
 * {@link EdwardsPoint} against Bouncy Castle's independent Ed25519 and X25519 code: decoding
 * decisions, encodings, and scalar multiples computed with our group law.
 */
class EdwardsPointTest {
  private final Random random = new Random(8032);

  /** Clamped secret scalar of an RFC 8032 seed (section 5.1.5). */
  static byte[] clampedScalar(byte[] seed) throws Exception {
    byte[] h = MessageDigest.getInstance("SHA-512").digest(seed);
    byte[] s = java.util.Arrays.copyOf(h, 32);
    s[0] &= (byte) 248;
    s[31] &= 127;
    s[31] |= 64;
    return s;
  }

  /** Plain double-and-add over all 256 bits, using add(Cached) and doublePoint. */
  static EdwardsPoint multiply(EdwardsPoint p, byte[] scalar) {
    EdwardsPoint.Cached cached = new EdwardsPoint.Cached();
    p.toCached(cached);
    EdwardsPoint r = new EdwardsPoint();
    for (int i = 255; i >= 0; i--) {
      r.doublePoint();
      if (((scalar[i >>> 3] >>> (i & 7)) & 1) == 1) {
        r.add(cached);
      }
    }
    return r;
  }

  @Test
  void baseMultiplesMatchBouncyCastlePublicKeys() throws Exception {
    EdwardsPoint base = EdwardsPoint.base();
    for (int i = 0; i < 50; i++) {
      byte[] seed = new byte[32];
      random.nextBytes(seed);
      byte[] expected = new byte[32];
      Ed25519.generatePublicKey(seed, 0, expected, 0);
      byte[] scalar = clampedScalar(seed);
      EdwardsPoint p = multiply(base, scalar);
      byte[] actual = new byte[32];
      p.encode(actual, 0);
      assertArrayEquals(expected, actual);
      byte[] montgomery = new byte[32];
      p.encodeMontgomery(montgomery, 0);
      byte[] x25519 = new byte[32];
      X25519.scalarMultBase(scalar, 0, x25519, 0);
      assertArrayEquals(x25519, montgomery);
      // decode(encode(P)) = P
      EdwardsPoint decoded = new EdwardsPoint();
      assertTrue(EdwardsPoint.decode(actual, 0, decoded));
      byte[] again = new byte[32];
      decoded.encode(again, 0);
      assertArrayEquals(actual, again);
    }
  }

  @Test
  void additionSubtractionAndPrecomputedFormsAgree() {
    EdwardsPoint base = EdwardsPoint.base();
    byte[] s1 = new byte[32];
    byte[] s2 = new byte[32];
    random.nextBytes(s1);
    random.nextBytes(s2);
    s1[31] &= 0x0f;
    s2[31] &= 0x0f;
    EdwardsPoint p = multiply(base, s1);
    EdwardsPoint q = multiply(base, s2);
    EdwardsPoint.Cached qc = new EdwardsPoint.Cached();
    q.toCached(qc);
    EdwardsPoint.Precomputed qp = new EdwardsPoint.Precomputed();
    q.toPrecomputed(qp);
    EdwardsPoint viaCached = new EdwardsPoint();
    viaCached.set(p);
    viaCached.add(qc);
    EdwardsPoint viaPrecomputed = new EdwardsPoint();
    viaPrecomputed.set(p);
    viaPrecomputed.add(qp);
    assertArrayEquals(encode(viaCached), encode(viaPrecomputed));
    viaCached.sub(qc);
    viaPrecomputed.sub(qp);
    assertArrayEquals(encode(p), encode(viaCached));
    assertArrayEquals(encode(p), encode(viaPrecomputed));
    // 2^5 P by repeated doubling equals 32 additions of P.
    EdwardsPoint doubled = new EdwardsPoint();
    doubled.set(p);
    doubled.doubleTimes(5);
    EdwardsPoint.Cached pc = new EdwardsPoint.Cached();
    p.toCached(pc);
    EdwardsPoint summed = new EdwardsPoint();
    for (int i = 0; i < 32; i++) {
      summed.add(pc);
    }
    assertArrayEquals(encode(doubled), encode(summed));
  }

  @Test
  void setFromCachedGivesTheSamePoint_andNeutralIsDetected() {
    byte[] s1 = new byte[32];
    random.nextBytes(s1);
    s1[31] &= 0x0f;
    EdwardsPoint p = multiply(EdwardsPoint.base(), s1);
    p.doubleTimes(3); // a point with Z != 1
    EdwardsPoint.Cached pc = new EdwardsPoint.Cached();
    p.toCached(pc);
    EdwardsPoint fromCached = new EdwardsPoint();
    fromCached.set(pc);
    assertArrayEquals(encode(p), encode(fromCached));
    // T must be consistent too: the addition formulas use it, doubling does not.
    EdwardsPoint.Cached bc = new EdwardsPoint.Cached();
    EdwardsPoint.base().toCached(bc);
    p.add(bc);
    fromCached.add(bc);
    assertArrayEquals(encode(p), encode(fromCached));
    assertFalse(p.isNeutral());
    // P - P is the neutral element in a projective form with Z != 1; 2^3 of an order-8 point too.
    p.toCached(pc);
    p.sub(pc);
    assertTrue(p.isNeutral());
    assertTrue(new EdwardsPoint().isNeutral());
    EdwardsPoint order8 = new EdwardsPoint();
    assertTrue(
        EdwardsPoint.decode(
            java.util.HexFormat.of()
                .parseHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
            0,
            order8));
    order8.doubleTimes(2);
    assertFalse(order8.isNeutral()); // order 2: (0, -1)
    order8.doublePoint();
    assertTrue(order8.isNeutral());
  }

  @Test
  void decodingAcceptsExactlyWhatBouncyCastleAccepts() {
    int accepted = 0;
    for (int i = 0; i < 4_000; i++) {
      byte[] enc = new byte[32];
      random.nextBytes(enc);
      if (i % 50 == 0) {
        // Non-canonical y (p <= y < 2^255) with either sign.
        java.util.Arrays.fill(enc, (byte) 0xff);
        enc[0] = (byte) (0xed + random.nextInt(0x12));
        enc[31] = (byte) (random.nextBoolean() ? 0xff : 0x7f);
      }
      boolean ours = EdwardsPoint.decode(enc, 0, new EdwardsPoint());
      boolean bc = Ed25519.validatePublicKeyPartialExport(enc, 0) != null;
      assertEquals(
          bc, ours, () -> "decode decision differs for " + java.util.HexFormat.of().formatHex(enc));
      if (ours) {
        accepted++;
      }
    }
    assertTrue(accepted > 1_000, "about half of random strings are points");
  }

  @Test
  void rejectsNegativeZeroAndNonSquares() {
    // y = 1 (x = 0) with the sign bit set is "-0": RFC 8032 says decoding fails.
    byte[] negativeZero = new byte[32];
    negativeZero[0] = 1;
    negativeZero[31] = (byte) 0x80;
    assertFalse(EdwardsPoint.decode(negativeZero, 0, new EdwardsPoint()));
    negativeZero[31] = 0;
    assertTrue(EdwardsPoint.decode(negativeZero, 0, new EdwardsPoint()));
    // y = 2: (y^2 - 1) / (d y^2 + 1) is not a square.
    byte[] two = new byte[32];
    two[0] = 2;
    assertEquals(
        Ed25519.validatePublicKeyPartialExport(two, 0) != null,
        EdwardsPoint.decode(two, 0, new EdwardsPoint()));
  }

  private static byte[] encode(EdwardsPoint p) {
    byte[] out = new byte[32];
    p.encode(out, 0);
    return out;
  }
}
