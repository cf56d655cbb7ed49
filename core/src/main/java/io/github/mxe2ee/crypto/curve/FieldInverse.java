package io.github.mxe2ee.crypto.curve;

import java.security.SecureRandom;

/**
 * Inversion in GF(2^255 - 19) by Bernstein and Yang's divsteps ("Fast constant-time gcd computation
 * and modular inversion", TCHES 2019), in the variable-time form: about 2 µs here against 5 µs for
 * Fermat's {@code f^(p-2)} in {@link Field25519#invert}.
 *
 * <p><b>Method.</b> Starting from {@code (f, g) = (p, x)} and {@code δ = 1}, a divstep replaces
 * {@code g} by {@code (g + f)/2} or {@code g/2} (and, when {@code δ > 0} and g is odd, first swaps
 * f with g and negates the new g), until {@code g = 0}; then {@code f = ±1} and the coefficients
 * {@code d} carried along with {@code f ≡ d·x (mod p)} give {@code 1/x = ±d}. The steps run in
 * batches of 30 on the low 60 bits of f and g only, which decide the next 30 steps; a batch yields
 * a 2×2 integer matrix (entries below 2^30), which is then applied once to the full-size f, g (an
 * exact division by 2^30) and to d, e (a division by 2^30 modulo p, by adding the multiple of p
 * that clears the low 30 bits). Within a batch, runs of zero bits of g are skipped at once, and up
 * to six consecutive "add f" steps are done with one multiplication. Full-size values are nine
 * signed 30-bit limbs, so every product fits in a {@code long}.
 *
 * <p><b>Timing.</b> The number of steps depends on x, so {@link #invertVarTime} is for public
 * values (signature verification, table building). Secrets go through {@link #invertBlinded}, which
 * inverts {@code λ·x} for a uniformly random non-zero λ unknown to anyone and multiplies the result
 * by λ: what the timing can reveal is a function of {@code λ·x}, which is uniformly distributed
 * whatever x is. Each thread keeps its own λ, drawn from {@link SecureRandom}, moves it on by
 * multiplying with a second random element before every use (so every λ is uniform on its own), and
 * draws both again every {@value #RESEED_INTERVAL} uses.
 *
 * <p>Stateless apart from the per-thread blinding state; thread-safe. Internal to the curve code.
 */
final class FieldInverse {
  /** Divsteps per batch; matrix entries stay below 2^STEPS in absolute value. */
  private static final int STEPS = 30;

  /** Limbs of a full-size value: 9 × 30 = 270 bits, the top limb signed. */
  private static final int LIMBS = 9;

  private static final long M30 = (1L << 30) - 1;

  /** p = 2^255 - 19 in 30-bit limbs (255 = 8·30 + 15). */
  private static final long[] P = {M30 - 18, M30, M30, M30, M30, M30, M30, M30, (1L << 15) - 1};

  /** {@code 1/p mod 2^30}, for the multiple of p that makes a value divisible by 2^30. */
  private static final long P_INV = inverse2adic(P[0]) & M30;

  /**
   * Upper bound on batches. Bernstein and Yang prove that 741 divsteps (25 batches) suffice for
   * inputs below 2^256; the loop stops with an error long after that, and {@code d} grows by less
   * than p per batch, so it stays below {@code (MAX_BATCHES + 1)·p}, which {@link #toField}
   * handles.
   */
  private static final int MAX_BATCHES = 60;

  /** Blinding uses between two draws from {@link SecureRandom}. */
  static final int RESEED_INTERVAL = 4096;

  private static final SecureRandom RANDOM = new SecureRandom();

  private static final ThreadLocal<Blinding> BLINDING = ThreadLocal.withInitial(Blinding::new);

  private FieldInverse() {}

  /**
   * {@code h = 1/x} for a secret {@code x} (loose or reduced), through a random blinding factor;
   * zero maps to zero. See the class documentation for why the variable-time core is safe here.
   */
  static void invertBlinded(long[] x, long[] h) {
    long[] lambda = BLINDING.get().next();
    long[] t = Field25519.create();
    Field25519.mul(x, lambda, t);
    invertVarTime(t, t);
    Field25519.mul(t, lambda, h);
  }

  /**
   * {@code h = 1/x} for a public {@code x} (loose or reduced); zero maps to zero. Variable time.
   */
  static void invertVarTime(long[] x, long[] h) {
    byte[] canonical = new byte[32];
    Field25519.toBytes(x, canonical, 0);
    long[] f = P.clone();
    long[] g = fromBytes(canonical);
    long[] d = new long[LIMBS];
    long[] e = new long[LIMBS];
    e[0] = 1;
    long[] matrix = new long[4];
    long delta = 1;
    int batches = 0;
    while (!isZero(g)) {
      if (++batches > MAX_BATCHES) {
        throw new IllegalStateException("field inversion did not converge");
      }
      delta = divsteps(delta, f[0] | (f[1] << 30), g[0] | (g[1] << 30), matrix);
      apply(f, g, matrix, false);
      apply(d, e, matrix, true);
    }
    // f = ±1 now (or f = p when x = 0, with d = 0): 1/x = d·f.
    toField(d, f[LIMBS - 1] < 0, h);
  }

  /**
   * Runs {@value #STEPS} divsteps on the low bits of f (odd) and g; writes the transition matrix
   * {@code (u, v, q, r)}, with {@code 2^STEPS·(f', g') = (u·f + v·g, q·f + r·g)}, to {@code m} and
   * returns the new δ. Only the low 31 bits of f and g decide 30 steps; the callers pass 60.
   */
  static long divsteps(long delta, long f, long g, long[] m) {
    long u = 1;
    long v = 0;
    long q = 0;
    long r = 1;
    int left = STEPS;
    while (true) {
      // Each zero bit of g is one step g <- g/2; the f row is scaled by 2 instead.
      int zeros = Long.numberOfTrailingZeros(g | (1L << left));
      g >>= zeros;
      u <<= zeros;
      v <<= zeros;
      delta += zeros;
      left -= zeros;
      if (left == 0) {
        break;
      }
      // g is odd. With δ > 0 the step is (f, g) <- (g, (g - f)/2): swap f with -g first, and
      // the "add f" step below does the rest. (A masked swap measured slower than this branch.)
      if (delta > 0) {
        delta = -delta;
        long t = f;
        f = g;
        g = -t;
        t = u;
        u = q;
        q = -t;
        t = v;
        v = r;
        r = -t;
      }
      // Now δ <= 0 and the next 1 - δ steps never swap: each adds f when g is odd and halves.
      // Together they add w·f for the w < 2^limit that clears the low bits of g; the halvings
      // are the zero bits at the top of the loop. f·(2 - f·f) is 1/f modulo 2^6.
      int limit = (int) Math.min(Math.min(1 - delta, left), 6);
      long w = (-g * f * (2 - f * f)) & ((1L << limit) - 1);
      g += w * f;
      q += w * u;
      r += w * v;
    }
    m[0] = u;
    m[1] = v;
    m[2] = q;
    m[3] = r;
    return delta;
  }

  /**
   * {@code (a, b) <- (u·a + v·b, q·a + r·b) / 2^30}: exactly for (f, g), modulo p for (d, e). The
   * low limbs come out in [0, 2^30), the top limb signed. Every partial sum is below 2^62: limbs
   * below 2^30, matrix entries at most 2^30 in absolute value, the added multiple of p below 2^60.
   */
  private static void apply(long[] a, long[] b, long[] m, boolean modP) {
    long u = m[0];
    long v = m[1];
    long q = m[2];
    long r = m[3];
    long a0 = a[0];
    long b0 = b[0];
    long ca = u * a0 + v * b0;
    long cb = q * a0 + r * b0;
    long ma = 0;
    long mb = 0;
    if (modP) {
      ma = (-ca * P_INV) & M30;
      mb = (-cb * P_INV) & M30;
      ca += ma * P[0];
      cb += mb * P[0];
    }
    ca >>= 30;
    cb >>= 30;
    for (int i = 1; i < LIMBS; i++) {
      long ai = a[i];
      long bi = b[i];
      ca += u * ai + v * bi + ma * P[i];
      cb += q * ai + r * bi + mb * P[i];
      a[i - 1] = ca & M30;
      b[i - 1] = cb & M30;
      ca >>= 30;
      cb >>= 30;
    }
    a[LIMBS - 1] = ca;
    b[LIMBS - 1] = cb;
  }

  private static boolean isZero(long[] a) {
    long acc = 0;
    for (long limb : a) {
      acc |= limb;
    }
    return acc == 0;
  }

  /** The 30-bit limbs of a 32-byte little-endian value below 2^255. */
  private static long[] fromBytes(byte[] in) {
    long[] out = new long[LIMBS];
    long w0 = Field25519.le64(in, 0);
    long w1 = Field25519.le64(in, 8);
    long w2 = Field25519.le64(in, 16);
    long w3 = Field25519.le64(in, 24);
    out[0] = w0 & M30;
    out[1] = (w0 >>> 30) & M30;
    out[2] = ((w0 >>> 60) | (w1 << 4)) & M30;
    out[3] = (w1 >>> 26) & M30;
    out[4] = ((w1 >>> 56) | (w2 << 8)) & M30;
    out[5] = (w2 >>> 22) & M30;
    out[6] = ((w2 >>> 52) | (w3 << 12)) & M30;
    out[7] = (w3 >>> 18) & M30;
    out[8] = w3 >>> 48;
    return out;
  }

  /**
   * {@code h = ±d mod p}, reduced, for d of absolute value below {@code (MAX_BATCHES + 1)·p}: adds
   * {@code 128·p} to make it positive, then regroups the 30-bit limbs into 51-bit ones.
   */
  private static void toField(long[] d, boolean negate, long[] h) {
    long[] w = new long[LIMBS];
    long c = 0;
    for (int i = 0; i < LIMBS; i++) {
      c += (negate ? -d[i] : d[i]) + (P[i] << 7);
      if (i < LIMBS - 1) {
        w[i] = c & M30;
        c >>= 30;
      } else {
        w[i] = c;
      }
    }
    Field25519.zero(h);
    for (int i = 0; i < LIMBS; i++) {
      int pos = 30 * i;
      int k = pos / 51;
      int off = pos % 51;
      h[k] += (w[i] << off) & Field25519.MASK51;
      long high = w[i] >>> (51 - off);
      if (k + 1 < Field25519.LIMBS) {
        h[k + 1] += high;
      } else {
        h[0] += 19 * high; // 2^255 = 19 (mod p)
      }
    }
    Field25519.carry(h);
  }

  /** {@code 1/a mod 2^64} for odd a, by Newton's iteration (each step doubles the good bits). */
  private static long inverse2adic(long a) {
    long x = a; // correct to 3 bits: a·a = 1 (mod 8)
    for (int i = 0; i < 5; i++) {
      x *= 2 - a * x;
    }
    return x;
  }

  /** One thread's blinding factor λ and the random step it moves by. */
  private static final class Blinding {
    private final long[] lambda = Field25519.create();
    private final long[] step = Field25519.create();
    private int uses = RESEED_INTERVAL;

    long[] next() {
      if (uses++ >= RESEED_INTERVAL) {
        randomNonZero(lambda);
        randomNonZero(step);
        uses = 1;
      } else {
        Field25519.mul(lambda, step, lambda);
      }
      return lambda;
    }

    private static void randomNonZero(long[] h) {
      byte[] bytes = new byte[32];
      do {
        RANDOM.nextBytes(bytes);
        Field25519.fromBytes(bytes, 0, h);
      } while (Field25519.isZero(h));
      java.util.Arrays.fill(bytes, (byte) 0);
    }
  }
}
