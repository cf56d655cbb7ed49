package io.github.mxe2ee.crypto.curve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link FieldInverse} against {@link BigInteger#modInverse}. */
class FieldInverseTest {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger MASK51 = BigInteger.ONE.shiftLeft(51).subtract(BigInteger.ONE);
  private final Random random = new Random(0x5afe6cdL);

  private static BigInteger value(long[] f) {
    BigInteger v = BigInteger.ZERO;
    for (int i = 4; i >= 0; i--) {
      v = v.shiftLeft(51).add(BigInteger.valueOf(f[i]));
    }
    return v;
  }

  /** Limbs of {@code v} (below 2^255 + 2^204·small), not reduced modulo p. */
  private static long[] limbs(BigInteger v) {
    long[] f = new long[5];
    for (int i = 0; i < 4; i++) {
      f[i] = v.shiftRight(51 * i).and(MASK51).longValueExact();
    }
    f[4] = v.shiftRight(204).longValueExact();
    return f;
  }

  /**
   * Values where divsteps behave unusually: tiny, huge, powers of two, p - small, non-canonical.
   */
  private static List<BigInteger> edgeCases() {
    List<BigInteger> cases = new ArrayList<>();
    for (int i = 1; i < 40; i++) {
      cases.add(BigInteger.valueOf(i));
      cases.add(P.subtract(BigInteger.valueOf(i)));
    }
    for (int k = 0; k < 255; k++) {
      cases.add(BigInteger.ONE.shiftLeft(k));
      cases.add(BigInteger.ONE.shiftLeft(k).subtract(BigInteger.ONE).max(BigInteger.ONE));
    }
    cases.add(P.add(BigInteger.ONE)); // non-canonical 1
    cases.add(P.add(BigInteger.valueOf(18))); // 2^255 - 1, non-canonical 18
    cases.add(P.subtract(BigInteger.ONE).shiftRight(1)); // (p - 1) / 2
    return cases;
  }

  private void assertInverse(BigInteger x, long[] actual) {
    assertTrue(Field25519.isReduced(actual), "result not reduced");
    BigInteger expected = x.mod(P).modInverse(P);
    assertEquals(expected, value(actual).mod(P), () -> "inverse of " + x.toString(16));
  }

  @Test
  void variableTimeInverseMatchesBigInteger() {
    List<BigInteger> inputs = edgeCases();
    for (int i = 0; i < 20_000; i++) {
      inputs.add(new BigInteger(255, random).mod(P).max(BigInteger.ONE));
    }
    long[] h = Field25519.create();
    for (BigInteger x : inputs) {
      FieldInverse.invertVarTime(limbs(x), h);
      assertInverse(x, h);
    }
  }

  @Test
  void blindedInverseMatchesBigIntegerAcrossReseeds() {
    long[] h = Field25519.create();
    for (int i = 0; i < 3 * FieldInverse.RESEED_INTERVAL; i++) {
      BigInteger x = new BigInteger(255, random).mod(P).max(BigInteger.ONE);
      FieldInverse.invertBlinded(limbs(x), h);
      assertInverse(x, h);
    }
  }

  @Test
  void acceptsLooseInputs() {
    long[] x = new long[5];
    long[] safegcd = Field25519.create();
    long[] blinded = Field25519.create();
    for (int i = 0; i < 5_000; i++) {
      for (int j = 0; j < 5; j++) {
        x[j] = Field25519.LOOSE_BOUND - 1 - random.nextInt(1 << 20);
      }
      FieldInverse.invertVarTime(x, safegcd);
      FieldInverse.invertBlinded(x, blinded);
      BigInteger expected = value(x).mod(P).modInverse(P);
      assertEquals(expected, value(safegcd).mod(P));
      assertEquals(expected, value(blinded).mod(P));
    }
  }

  @Test
  void zeroAndItsNonCanonicalFormsMapToZero() {
    long[] h = Field25519.create();
    for (BigInteger zero : new BigInteger[] {BigInteger.ZERO, P}) {
      FieldInverse.invertVarTime(limbs(zero), h);
      assertTrue(Field25519.isZero(h));
      FieldInverse.invertBlinded(limbs(zero), h);
      assertTrue(Field25519.isZero(h));
    }
  }

  /** One divstep at a time, as in Bernstein and Yang's definition, for the batched version. */
  private static long referenceDivsteps(long delta, long f, long g, long[] m) {
    long u = 1;
    long v = 0;
    long q = 0;
    long r = 1;
    for (int i = 0; i < 30; i++) {
      if (delta > 0 && (g & 1) == 1) {
        delta = 1 - delta;
        long nf = g;
        g = (g - f) >> 1;
        f = nf;
        long nu = 2 * q;
        long nv = 2 * r;
        q -= u;
        r -= v;
        u = nu;
        v = nv;
      } else if ((g & 1) == 1) {
        delta = 1 + delta;
        g = (g + f) >> 1;
        q += u;
        r += v;
        u *= 2;
        v *= 2;
      } else {
        delta = 1 + delta;
        g >>= 1;
        u *= 2;
        v *= 2;
      }
    }
    m[0] = u;
    m[1] = v;
    m[2] = q;
    m[3] = r;
    return delta;
  }

  @Test
  void batchedDivstepsEqualSingleSteps() {
    long[] m = new long[4];
    long[] expected = new long[4];
    for (int i = 0; i < 200_000; i++) {
      long f = random.nextLong() | 1;
      // Sparse g too, so that long runs of zero bits are covered.
      long g =
          i % 3 == 0
              ? random.nextLong() & random.nextLong() & random.nextLong()
              : random.nextLong();
      long delta = random.nextInt(81) - 40;
      long expectedDelta = referenceDivsteps(delta, f, g, expected);
      assertEquals(expectedDelta, FieldInverse.divsteps(delta, f, g, m));
      assertArrayEquals(expected, m);
      assertTrue(Math.abs(m[0]) + Math.abs(m[1]) <= 1L << 30, "f row above 2^30");
      assertTrue(Math.abs(m[2]) + Math.abs(m[3]) <= 1L << 30, "g row above 2^30");
    }
  }
}
