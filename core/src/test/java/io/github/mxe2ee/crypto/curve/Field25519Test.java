package io.github.mxe2ee.crypto.curve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link Field25519} against {@link BigInteger} arithmetic modulo 2^255 - 19. */
class Field25519Test {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final long REDUCED_BOUND = (1L << 51) + (1L << 16);
  private final Random random = new Random(25519);

  private static BigInteger value(long[] f) {
    BigInteger v = BigInteger.ZERO;
    for (int i = 4; i >= 0; i--) {
      v = v.shiftLeft(51).add(BigInteger.valueOf(f[i]));
    }
    return v;
  }

  /** Limbs below 2^bits (the largest allowed input is 2^53). */
  private long[] randomElement(int bits) {
    long[] f = new long[5];
    for (int i = 0; i < 5; i++) {
      f[i] = random.nextLong() >>> (64 - bits);
    }
    return f;
  }

  private long[] extremeElement(int bits) {
    long[] f = new long[5];
    for (int i = 0; i < 5; i++) {
      f[i] = (1L << bits) - 1 - random.nextInt(3);
    }
    return f;
  }

  /** Limbs at the top of the loose range (just below 2^53 + 2^18). */
  private long[] loosestElement() {
    long[] f = new long[5];
    for (int i = 0; i < 5; i++) {
      f[i] = Field25519.LOOSE_BOUND - 1 - random.nextInt(1 << 20);
    }
    return f;
  }

  /**
   * The floating-point estimate inside mul and square must stay within 2^12 units of the exact
   * carry for every loose input; its error grows with the limbs, so hammer the top of the range
   * (all limbs maximal, mixed with small and random limbs) against BigInteger.
   */
  @Test
  void carryEstimateIsExactAtTheTopOfTheLooseRange() {
    long max = Field25519.LOOSE_BOUND - 1;
    for (int i = 0; i < 100_000; i++) {
      long[] f = new long[5];
      long[] g = new long[5];
      for (int j = 0; j < 5; j++) {
        int mode = random.nextInt(4);
        f[j] =
            mode == 0
                ? max
                : mode == 1
                    ? max - random.nextInt(1 << 30)
                    : mode == 2 ? random.nextInt(3) : random.nextLong() >>> 11;
        g[j] = random.nextBoolean() ? max - random.nextInt(1 << 10) : random.nextLong() >>> 11;
      }
      long[] h = Field25519.create();
      Field25519.mul(f, g, h);
      assertReduced(h);
      assertEquals(value(f).multiply(value(g)).mod(P), value(h).mod(P));
      Field25519.square(f, h);
      assertReduced(h);
      assertEquals(value(f).pow(2).mod(P), value(h).mod(P));
    }
    long[] all = {max, max, max, max, max};
    long[] h = Field25519.create();
    Field25519.square(all, h);
    assertEquals(value(all).pow(2).mod(P), value(h).mod(P));
  }

  private static void assertReduced(long[] h) {
    for (long limb : h) {
      assertTrue(limb >= 0 && limb < REDUCED_BOUND, "limb out of the reduced range: " + limb);
    }
  }

  @Test
  void mulAndSquareMatchBigIntegerUpToTheInputBound() {
    for (int i = 0; i < 20_000; i++) {
      int bits = 51 + (i % 3);
      long[] f = i % 10 == 0 ? loosestElement() : randomElement(bits);
      long[] g = i % 10 <= 1 ? loosestElement() : randomElement(bits);
      long[] h = Field25519.create();
      Field25519.mul(f, g, h);
      assertReduced(h);
      assertEquals(value(f).multiply(value(g)).mod(P), value(h).mod(P));
      Field25519.square(f, h);
      assertReduced(h);
      assertEquals(value(f).pow(2).mod(P), value(h).mod(P));
    }
  }

  @Test
  void outputMayAliasInput() {
    long[] f = randomElement(51);
    BigInteger expected = value(f).pow(4).mod(P);
    Field25519.square(f, f);
    Field25519.mul(f, f, f);
    assertEquals(expected, value(f).mod(P));
  }

  @Test
  void addSubNegateAndSmallMultiples() {
    for (int i = 0; i < 5_000; i++) {
      long[] f = i % 7 == 0 ? extremeElement(51) : randomElement(51);
      long[] g = i % 7 == 1 ? extremeElement(51) : randomElement(51);
      long[] h = Field25519.create();
      Field25519.sub(f, g, h);
      assertReduced(h);
      assertEquals(value(f).subtract(value(g)).mod(P), value(h).mod(P));
      Field25519.subLoose(f, g, h);
      assertTrue(h[0] >= 0 && h[1] >= 0 && h[2] >= 0 && h[3] >= 0 && h[4] >= 0);
      assertTrue(h[0] < 1L << 53 && h[1] < 1L << 53 && h[2] < 1L << 53 && h[3] < 1L << 53);
      assertTrue(h[4] < 1L << 53);
      assertEquals(value(f).subtract(value(g)).mod(P), value(h).mod(P));
      Field25519.negate(f, h);
      assertReduced(h);
      assertEquals(value(f).negate().mod(P), value(h).mod(P));
      Field25519.add(f, g, h);
      assertEquals(value(f).add(value(g)).mod(P), value(h).mod(P));
      int c = random.nextInt(1 << 20);
      long[] wide = i % 2 == 0 ? loosestElement() : randomElement(53);
      Field25519.mulSmall(wide, c, h);
      assertReduced(h);
      assertEquals(value(wide).multiply(BigInteger.valueOf(c)).mod(P), value(h).mod(P));
    }
  }

  @Test
  void bytesRoundTripIsCanonical() {
    for (int i = 0; i < 2_000; i++) {
      byte[] in = new byte[32];
      random.nextBytes(in);
      long[] f = Field25519.create();
      Field25519.fromBytes(in, 0, f);
      BigInteger expected = new BigInteger(1, reverse(in)).clearBit(255).mod(P);
      byte[] out = new byte[32];
      Field25519.toBytes(f, out, 0);
      assertEquals(expected, new BigInteger(1, reverse(out)));
    }
  }

  @Test
  void valuesAroundThePrimeEncodeCanonically() {
    // p - 1, p, p + 1, ..., 2^255 - 1: the non-canonical inputs reduce; p - 1 stays.
    for (int delta = -1; delta <= 18; delta++) {
      BigInteger v = P.add(BigInteger.valueOf(delta));
      byte[] in = reverse(toFixed(v));
      long[] f = Field25519.create();
      Field25519.fromBytes(in, 0, f);
      byte[] out = new byte[32];
      Field25519.toBytes(f, out, 0);
      assertEquals(v.mod(P), new BigInteger(1, reverse(out)), "p + " + delta);
      assertEquals(delta < 0, Field25519.isCanonical(in, 0), "canonical p + " + delta);
    }
    // Unreduced limbs (a sum of two elements) also encode canonically.
    long[] f = extremeElement(51);
    long[] h = Field25519.create();
    Field25519.add(f, f, h);
    Field25519.carry(h);
    byte[] out = new byte[32];
    Field25519.toBytes(h, out, 0);
    assertEquals(value(f).shiftLeft(1).mod(P), new BigInteger(1, reverse(out)));
  }

  @Test
  void squareRootExponent() {
    for (int i = 0; i < 200; i++) {
      long[] f = randomElement(51);
      long[] h = Field25519.create();
      Field25519.powP58(f, h);
      BigInteger e = BigInteger.TWO.pow(252).subtract(BigInteger.valueOf(3));
      assertEquals(value(f).modPow(e, P), value(h).mod(P));
    }
  }

  @Test
  void conditionalSwapAndMove() {
    long[] f = randomElement(51);
    long[] g = randomElement(51);
    long[] f0 = f.clone();
    long[] g0 = g.clone();
    Field25519.cswap(f, g, 0);
    assertArrayEquals(f0, f);
    Field25519.cswap(f, g, 1);
    assertArrayEquals(g0, f);
    assertArrayEquals(f0, g);
    long[] h = f0.clone();
    Field25519.cmov(g0, h, 0);
    assertArrayEquals(f0, h);
    Field25519.cmov(g0, h, 1);
    assertArrayEquals(g0, h);
  }

  @Test
  void zeroAndSign() {
    long[] f = Field25519.create();
    assertTrue(Field25519.isZero(f));
    Field25519.one(f);
    assertFalse(Field25519.isZero(f));
    assertEquals(1, Field25519.isNegative(f));
    long[] minusOne = Field25519.create();
    Field25519.negate(f, minusOne);
    assertEquals(0, Field25519.isNegative(minusOne)); // p - 1 is even
    long[] p = {(1L << 51) - 19, (1L << 51) - 1, (1L << 51) - 1, (1L << 51) - 1, (1L << 51) - 1};
    assertTrue(Field25519.isZero(p));
  }

  static byte[] reverse(byte[] b) {
    byte[] r = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      r[i] = b[b.length - 1 - i];
    }
    return r;
  }

  private static byte[] toFixed(BigInteger v) {
    byte[] be = v.toByteArray();
    byte[] out = new byte[32];
    int n = Math.min(32, be.length);
    System.arraycopy(be, be.length - n, out, 32 - n, n);
    return out;
  }
}
