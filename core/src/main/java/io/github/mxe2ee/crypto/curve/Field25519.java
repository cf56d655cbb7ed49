package io.github.mxe2ee.crypto.curve;

/**
 * Arithmetic in GF(2^255 - 19), the field of Curve25519 and Ed25519 (RFC 7748 section 4.1), in five
 * 51-bit limbs held in a {@code long[5]}: an element is {@code f[0] + f[1]·2^51 + f[2]·2^102 +
 * f[3]·2^153 + f[4]·2^204}.
 *
 * <p><b>How a multiplication works.</b> A limb product is up to 106 bits and an output limb sums
 * five of them, but Java has no 128-bit integer. Each output limb {@code S} is computed twice: its
 * low 64 bits exactly, as a wrapping sum of {@code long} products, and an estimate in {@code
 * double} arithmetic, whose error is provably below 2^62 (see {@link #carryOut}). The exact low
 * bits give {@code S mod 2^51} and the low 13 bits of {@code floor(S / 2^51)}; the estimate gives
 * the rest of that quotient. So a multiplication costs 25 integer and 25 floating-point products,
 * which run on different execution units, against 25 double-width products (two instructions each)
 * with {@link Math#multiplyHigh} or about 100 products for the 10-limb (25.5-bit) representation of
 * ref10, libolm and Bouncy Castle. Values are integers far above the subnormal range, so the
 * floating-point instructions take a fixed time, like the integer ones.
 *
 * <p><b>Limb bounds</b> (the contract of every method). "Reduced" means every limb is non-negative
 * and below 2^51 + 2^16; {@link #mul}, {@link #square}, {@link #sub}, {@link #mulSmall}, {@link
 * #negate} and {@link #carry} return reduced elements. "Loose" means every limb is below {@value
 * #LOOSE_BOUND_DESCRIPTION}: the sum of two reduced elements ({@link #add} does not carry), or a
 * {@link #subLoose} result. {@link #mul}, {@link #square} and {@link #mulSmall} accept loose inputs
 * (so do the inversions of {@link FieldInverse}); {@link #sub} and {@link #negate} take reduced
 * ones. Only {@link #toBytes} produces the canonical value.
 *
 * <p><b>Constant time.</b> No method branches on or indexes memory by element values; {@link
 * #cswap} and {@link #cmov} use masks; integer and floating-point multiplications take a fixed
 * number of cycles on the targeted CPUs (x86-64, AArch64). Variable-time use on public data
 * (signature verification) is the caller's choice.
 *
 * <p>Stateless; methods may alias their output with an input. Internal to mxe2ee's curve code.
 */
public final class Field25519 {
  /** Number of limbs. */
  public static final int LIMBS = 5;

  static final long MASK51 = (1L << 51) - 1;

  /** Limbs of loose elements are below this bound (2^53 + 2^18). */
  static final long LOOSE_BOUND = (1L << 53) + (1L << 18);

  static final String LOOSE_BOUND_DESCRIPTION = "2^53 + 2^18";

  private static final double TWO_TO_MINUS_51 = 0x1p-51;

  /** 2p in limbs, added before a subtraction so that every limb stays non-negative. */
  static final long TWO_P0 = 0xFFFFFFFFFFFDAL;

  static final long TWO_P1234 = 0xFFFFFFFFFFFFEL;

  private Field25519() {}

  /** A new zero element. */
  public static long[] create() {
    return new long[LIMBS];
  }

  /** Sets {@code h} to zero. */
  public static void zero(long[] h) {
    h[0] = 0;
    h[1] = 0;
    h[2] = 0;
    h[3] = 0;
    h[4] = 0;
  }

  /** Sets {@code h} to one. */
  public static void one(long[] h) {
    h[0] = 1;
    h[1] = 0;
    h[2] = 0;
    h[3] = 0;
    h[4] = 0;
  }

  /** Copies {@code f} into {@code h}. */
  public static void copy(long[] f, long[] h) {
    h[0] = f[0];
    h[1] = f[1];
    h[2] = f[2];
    h[3] = f[3];
    h[4] = f[4];
  }

  /** {@code h = f + g}, without carrying (limbs grow by one bit). */
  public static void add(long[] f, long[] g, long[] h) {
    h[0] = f[0] + g[0];
    h[1] = f[1] + g[1];
    h[2] = f[2] + g[2];
    h[3] = f[3] + g[3];
    h[4] = f[4] + g[4];
  }

  /** {@code h = f - g}, reduced; {@code f} and {@code g} must be reduced. */
  public static void sub(long[] f, long[] g, long[] h) {
    assert isReduced(f) && isReduced(g) : "sub input not reduced";
    long h0 = f[0] + TWO_P0 - g[0];
    long h1 = f[1] + TWO_P1234 - g[1];
    long h2 = f[2] + TWO_P1234 - g[2];
    long h3 = f[3] + TWO_P1234 - g[3];
    long h4 = f[4] + TWO_P1234 - g[4];
    carry(h0, h1, h2, h3, h4, h);
  }

  /**
   * {@code h = f - g} without carrying: cheaper than {@link #sub}, for a difference that goes
   * straight into {@link #mul}, {@link #square} or {@link #mulSmall}. {@code g} must be reduced and
   * {@code f} reduced or the sum of two reduced elements (limbs below 2^52 + 2^17); the result is
   * loose, not a valid input to {@link #sub}.
   */
  public static void subLoose(long[] f, long[] g, long[] h) {
    assert isBelow(f, (1L << 52) + (1L << 17)) && isReduced(g) : "subLoose input out of range";
    h[0] = f[0] + TWO_P0 - g[0];
    h[1] = f[1] + TWO_P1234 - g[1];
    h[2] = f[2] + TWO_P1234 - g[2];
    h[3] = f[3] + TWO_P1234 - g[3];
    h[4] = f[4] + TWO_P1234 - g[4];
  }

  /** {@code h = -f}, reduced; {@code f} must be reduced. */
  public static void negate(long[] f, long[] h) {
    long h0 = TWO_P0 - f[0];
    long h1 = TWO_P1234 - f[1];
    long h2 = TWO_P1234 - f[2];
    long h3 = TWO_P1234 - f[3];
    long h4 = TWO_P1234 - f[4];
    carry(h0, h1, h2, h3, h4, h);
  }

  /**
   * Carries {@code h} in place so that it is reduced; limbs must be non-negative and below 2^63.
   */
  public static void carry(long[] h) {
    carry(h[0], h[1], h[2], h[3], h[4], h);
  }

  private static void carry(long h0, long h1, long h2, long h3, long h4, long[] h) {
    h1 += h0 >>> 51;
    h0 &= MASK51;
    h2 += h1 >>> 51;
    h1 &= MASK51;
    h3 += h2 >>> 51;
    h2 &= MASK51;
    h4 += h3 >>> 51;
    h3 &= MASK51;
    h0 += 19 * (h4 >>> 51);
    h4 &= MASK51;
    h1 += h0 >>> 51;
    h0 &= MASK51;
    h[0] = h0;
    h[1] = h1;
    h[2] = h2;
    h[3] = h3;
    h[4] = h4;
  }

  /** {@code h = f · g}, reduced; {@code f} and {@code g} loose. */
  public static void mul(long[] f, long[] g, long[] h) {
    assert isBelow(f, LOOSE_BOUND) && isBelow(g, LOOSE_BOUND) : "mul input not loose";
    long f0 = f[0];
    long f1 = f[1];
    long f2 = f[2];
    long f3 = f[3];
    long f4 = f[4];
    long g0 = g[0];
    long g1 = g[1];
    long g2 = g[2];
    long g3 = g[3];
    long g4 = g[4];
    long n1 = 19 * g1;
    long n2 = 19 * g2;
    long n3 = 19 * g3;
    long n4 = 19 * g4;
    double df0 = f0;
    double df1 = f1;
    double df2 = f2;
    double df3 = f3;
    double df4 = f4;
    double dg0 = g0;
    double dg1 = g1;
    double dg2 = g2;
    double dg3 = g3;
    double dg4 = g4;
    double dn1 = 19.0 * dg1;
    double dn2 = 19.0 * dg2;
    double dn3 = 19.0 * dg3;
    double dn4 = 19.0 * dg4;
    long l0 = f0 * g0 + f1 * n4 + f2 * n3 + f3 * n2 + f4 * n1;
    double e0 = df0 * dg0 + df1 * dn4 + df2 * dn3 + df3 * dn2 + df4 * dn1;
    long l1 = f0 * g1 + f1 * g0 + f2 * n4 + f3 * n3 + f4 * n2;
    double e1 = df0 * dg1 + df1 * dg0 + df2 * dn4 + df3 * dn3 + df4 * dn2;
    long l2 = f0 * g2 + f1 * g1 + f2 * g0 + f3 * n4 + f4 * n3;
    double e2 = df0 * dg2 + df1 * dg1 + df2 * dg0 + df3 * dn4 + df4 * dn3;
    long l3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * n4;
    double e3 = df0 * dg3 + df1 * dg2 + df2 * dg1 + df3 * dg0 + df4 * dn4;
    long l4 = f0 * g4 + f1 * g3 + f2 * g2 + f3 * g1 + f4 * g0;
    double e4 = df0 * dg4 + df1 * dg3 + df2 * dg2 + df3 * dg1 + df4 * dg0;
    reduce(l0, e0, l1, e1, l2, e2, l3, e3, l4, e4, h);
  }

  /** {@code h = f^2}, reduced; {@code f} loose. */
  public static void square(long[] f, long[] h) {
    assert isBelow(f, LOOSE_BOUND) : "square input not loose";
    long f0 = f[0];
    long f1 = f[1];
    long f2 = f[2];
    long f3 = f[3];
    long f4 = f[4];
    long d0 = 2 * f0;
    long d1 = 2 * f1;
    long d2 = 2 * f2;
    long d3 = 2 * f3;
    long n3 = 19 * f3;
    long n4 = 19 * f4;
    double df0 = f0;
    double df1 = f1;
    double df2 = f2;
    double df3 = f3;
    double df4 = f4;
    double dd0 = 2.0 * df0;
    double dd1 = 2.0 * df1;
    double dd2 = 2.0 * df2;
    double dd3 = 2.0 * df3;
    double dn3 = 19.0 * df3;
    double dn4 = 19.0 * df4;
    long l0 = f0 * f0 + d1 * n4 + d2 * n3;
    double e0 = df0 * df0 + dd1 * dn4 + dd2 * dn3;
    long l1 = d0 * f1 + d2 * n4 + f3 * n3;
    double e1 = dd0 * df1 + dd2 * dn4 + df3 * dn3;
    long l2 = d0 * f2 + f1 * f1 + d3 * n4;
    double e2 = dd0 * df2 + df1 * df1 + dd3 * dn4;
    long l3 = d0 * f3 + d1 * f2 + f4 * n4;
    double e3 = dd0 * df3 + dd1 * df2 + df4 * dn4;
    long l4 = d0 * f4 + d1 * f3 + f2 * f2;
    double e4 = dd0 * df4 + dd1 * df3 + df2 * df2;
    reduce(l0, e0, l1, e1, l2, e2, l3, e3, l4, e4, h);
  }

  /**
   * {@code floor(S / 2^51)} for an output limb sum {@code S} (a sum of at most five limb products
   * with factors up to 19, so {@code S < 77·(2^53 + 2^18)^2 < 2^112.3}), from {@code low = S mod
   * 2^64} (exact) and a {@code double} estimate of {@code S}.
   *
   * <p>The estimate's error: converting loose limbs to {@code double} and multiplying by 19 costs
   * at most two roundings of relative size 2^-53 per factor pair, the product one more, and the
   * four additions one each relative to the partial sum; in all at most {@code 8·2^-53·S < 2^62.3},
   * i.e. at most 2^11.3 units of 2^51 (with the final truncation, below 2^11.4). The low 13 bits of
   * the quotient are {@code low >>> 51}, exactly; the estimate is within 2^12 of the quotient, so
   * adding the difference between the exact low 13 bits and the estimate's, taken as a signed
   * 13-bit number, recovers the quotient exactly.
   */
  private static long carryOut(long low, double estimate) {
    long guess = (long) (estimate * TWO_TO_MINUS_51);
    long diff = ((low >>> 51) - guess) & 0x1FFF;
    return guess + ((diff ^ 0x1000) - 0x1000);
  }

  /**
   * Turns five output limb sums, each given as its exact low 64 bits {@code l_k} and a {@code
   * double} estimate {@code e_k}, into a reduced element with one parallel carry round.
   */
  private static void reduce(
      long l0,
      double e0,
      long l1,
      double e1,
      long l2,
      double e2,
      long l3,
      double e3,
      long l4,
      double e4,
      long[] h) {
    // c_k < 2^61.3 (limb 4 has no factor 19: c_4 < 2^57.4, and 19·c_4 < 2^61.7).
    long c0 = carryOut(l0, e0);
    long c1 = carryOut(l1, e1);
    long c2 = carryOut(l2, e2);
    long c3 = carryOut(l3, e3);
    long c4 = carryOut(l4, e4);
    long t0 = (l0 & MASK51) + 19 * c4;
    long t1 = (l1 & MASK51) + c0;
    long t2 = (l2 & MASK51) + c1;
    long t3 = (l3 & MASK51) + c2;
    long t4 = (l4 & MASK51) + c3;
    h[0] = (t0 & MASK51) + 19 * (t4 >>> 51);
    h[1] = (t1 & MASK51) + (t0 >>> 51);
    h[2] = (t2 & MASK51) + (t1 >>> 51);
    h[3] = (t3 & MASK51) + (t2 >>> 51);
    h[4] = (t4 & MASK51) + (t3 >>> 51);
  }

  /** {@code h = f^(2^n)}: {@code n} squarings; {@code n >= 1}. */
  public static void squareTimes(long[] f, int n, long[] h) {
    square(f, h);
    for (int i = 1; i < n; i++) {
      square(h, h);
    }
  }

  /**
   * {@code h = f · c}, reduced, for a small constant {@code 0 <= c < 2^20}; limbs of {@code f}
   * below 2^53.
   */
  public static void mulSmall(long[] f, int c, long[] h) {
    assert isBelow(f, LOOSE_BOUND) && c >= 0 && c < 1 << 20 : "mulSmall input out of range";
    long sc = (long) c << 5;
    long lo0 = f[0] * c;
    long lo1 = f[1] * c;
    long lo2 = f[2] * c;
    long lo3 = f[3] * c;
    long lo4 = f[4] * c;
    long hi0 = Math.multiplyHigh(f[0] << 8, sc);
    long hi1 = Math.multiplyHigh(f[1] << 8, sc);
    long hi2 = Math.multiplyHigh(f[2] << 8, sc);
    long hi3 = Math.multiplyHigh(f[3] << 8, sc);
    long hi4 = Math.multiplyHigh(f[4] << 8, sc);
    long h0 = (lo0 & MASK51) + 19 * hi4;
    long h1 = (lo1 & MASK51) + hi0;
    long h2 = (lo2 & MASK51) + hi1;
    long h3 = (lo3 & MASK51) + hi2;
    long h4 = (lo4 & MASK51) + hi3;
    carry(h0, h1, h2, h3, h4, h);
  }

  /**
   * {@code h = f^((p-5)/8)} = {@code f^(2^252 - 3)}, the exponent used for square roots (RFC 8032
   * section 5.1.3). Constant time.
   */
  public static void powP58(long[] f, long[] h) {
    long[] t0 = create();
    long[] t1 = create();
    long[] t2 = create();
    square(f, t0); // 2
    squareTimes(t0, 2, t1); // 8
    mul(f, t1, t1); // 9
    mul(t0, t1, t0); // 11
    square(t0, t0); // 22
    mul(t1, t0, t0); // 2^5 - 1
    squareTimes(t0, 5, t1);
    mul(t1, t0, t0); // 2^10 - 1
    squareTimes(t0, 10, t1);
    mul(t1, t0, t1); // 2^20 - 1
    squareTimes(t1, 20, t2);
    mul(t2, t1, t1); // 2^40 - 1
    squareTimes(t1, 10, t1);
    mul(t1, t0, t0); // 2^50 - 1
    squareTimes(t0, 50, t1);
    mul(t1, t0, t1); // 2^100 - 1
    squareTimes(t1, 100, t2);
    mul(t2, t1, t1); // 2^200 - 1
    squareTimes(t1, 50, t1);
    mul(t1, t0, t0); // 2^250 - 1
    squareTimes(t0, 2, t0); // 2^252 - 4
    mul(t0, f, h); // 2^252 - 3
  }

  /** Swaps {@code f} and {@code g} if {@code swap} is 1, leaves them if 0; constant time. */
  public static void cswap(long[] f, long[] g, int swap) {
    long mask = -(long) swap;
    for (int i = 0; i < LIMBS; i++) {
      long x = (f[i] ^ g[i]) & mask;
      f[i] ^= x;
      g[i] ^= x;
    }
  }

  /** Sets {@code h} to {@code f} if {@code move} is 1, leaves it if 0; constant time. */
  public static void cmov(long[] f, long[] h, int move) {
    long mask = -(long) move;
    for (int i = 0; i < LIMBS; i++) {
      h[i] ^= (h[i] ^ f[i]) & mask;
    }
  }

  /**
   * Reads 32 little-endian bytes at {@code off}, ignoring the top bit (RFC 7748 section 5 and RFC
   * 8032 section 5.1.3 both mask it). Values in [p, 2^255) are accepted as their residue; callers
   * that must reject non-canonical encodings check {@link #isCanonical} first.
   */
  public static void fromBytes(byte[] in, int off, long[] h) {
    long w0 = le64(in, off);
    long w1 = le64(in, off + 8);
    long w2 = le64(in, off + 16);
    long w3 = le64(in, off + 24);
    h[0] = w0 & MASK51;
    h[1] = ((w0 >>> 51) | (w1 << 13)) & MASK51;
    h[2] = ((w1 >>> 38) | (w2 << 26)) & MASK51;
    h[3] = ((w2 >>> 25) | (w3 << 39)) & MASK51;
    h[4] = (w3 >>> 12) & MASK51;
  }

  /** True if the 255-bit value at {@code off} (top bit ignored) is below p. */
  public static boolean isCanonical(byte[] in, int off) {
    // Non-canonical values are p..2^255-1: all bytes 0xff except the first >= 0xed and the last
    // 0x7f.
    if ((in[off] & 0xff) < 0xed || (in[off + 31] & 0x7f) != 0x7f) {
      return true;
    }
    for (int i = 1; i < 31; i++) {
      if (in[off + i] != (byte) 0xff) {
        return true;
      }
    }
    return false;
  }

  /** Writes the canonical 32-byte little-endian encoding of {@code f} (any reduced element). */
  public static void toBytes(long[] f, byte[] out, int off) {
    long[] t = create();
    carry(f[0], f[1], f[2], f[3], f[4], t);
    long h0 = t[0];
    long h1 = t[1];
    long h2 = t[2];
    long h3 = t[3];
    long h4 = t[4];
    // Now h < 2^255 + small; q = 1 iff h >= p. Compute by propagating h + 19.
    long q = (h0 + 19) >>> 51;
    q = (h1 + q) >>> 51;
    q = (h2 + q) >>> 51;
    q = (h3 + q) >>> 51;
    q = (h4 + q) >>> 51;
    h0 += 19 * q;
    h1 += h0 >>> 51;
    h0 &= MASK51;
    h2 += h1 >>> 51;
    h1 &= MASK51;
    h3 += h2 >>> 51;
    h2 &= MASK51;
    h4 += h3 >>> 51;
    h3 &= MASK51;
    h4 &= MASK51;
    putLe64(out, off, h0 | (h1 << 51));
    putLe64(out, off + 8, (h1 >>> 13) | (h2 << 38));
    putLe64(out, off + 16, (h2 >>> 26) | (h3 << 25));
    putLe64(out, off + 24, (h3 >>> 39) | (h4 << 12));
  }

  /** True if {@code f} is zero modulo p. Constant time. */
  public static boolean isZero(long[] f) {
    byte[] b = new byte[32];
    toBytes(f, b, 0);
    int acc = 0;
    for (byte x : b) {
      acc |= x;
    }
    return acc == 0;
  }

  /** The low bit of the canonical value ("negative" in RFC 8032 terms). */
  public static int isNegative(long[] f) {
    byte[] b = new byte[32];
    toBytes(f, b, 0);
    return b[0] & 1;
  }

  /** Every limb in [0, bound): checked by assertions (enabled in the tests). */
  static boolean isBelow(long[] f, long bound) {
    for (long limb : f) {
      if (limb < 0 || limb >= bound) {
        return false;
      }
    }
    return true;
  }

  static boolean isReduced(long[] f) {
    return isBelow(f, (1L << 51) + (1L << 16));
  }

  static long le64(byte[] in, int off) {
    return (in[off] & 0xffL)
        | (in[off + 1] & 0xffL) << 8
        | (in[off + 2] & 0xffL) << 16
        | (in[off + 3] & 0xffL) << 24
        | (in[off + 4] & 0xffL) << 32
        | (in[off + 5] & 0xffL) << 40
        | (in[off + 6] & 0xffL) << 48
        | (in[off + 7] & 0xffL) << 56;
  }

  static void putLe64(byte[] out, int off, long v) {
    for (int i = 0; i < 8; i++) {
      out[off + i] = (byte) (v >>> (8 * i));
    }
  }
}
