package io.github.mxe2ee.crypto.curve;

/**
 * Arithmetic in GF(2^255 - 19), the field of Curve25519 and Ed25519 (RFC 7748 section 4.1), in five
 * 51-bit limbs held in a {@code long[5]}: an element is {@code f[0] + f[1]·2^51 + f[2]·2^102 +
 * f[3]·2^153 + f[4]·2^204}.
 *
 * <p><b>Why this representation.</b> A limb product is 102 bits and Java has no 128-bit integer,
 * but {@link Math#multiplyHigh} is a single instruction on x86-64 and AArch64. With the operands
 * pre-shifted left by 8 and 5 bits, {@code multiplyHigh(f << 8, g << 5)} is exactly {@code
 * floor(f·g / 2^51)} and {@code ((f << 8) · (g << 5)) >>> 13} is exactly {@code f·g mod 2^51}: each
 * product splits into the two halves the next limb and this limb need, without carry detection. So
 * a multiplication costs 25 low and 25 high products, against about 100 products for the 10-limb
 * (25.5-bit) representation of ref10, libolm and Bouncy Castle; the products of one output limb sum
 * to less than 2^63 in both halves, and one parallel carry round reduces them.
 *
 * <p><b>Limb bounds</b> (the contract of every method). "Reduced" means every limb is below 2^51 +
 * 2^16; {@link #mul}, {@link #square}, {@link #sub}, {@link #mulSmall} and {@link #carry} return
 * reduced elements. {@link #mul} and {@link #square} accept inputs whose limbs are below 2^53, i.e.
 * a reduced element or the sum of up to three reduced elements ({@link #add} does not carry).
 * {@link #sub} takes reduced inputs. Only {@link #toBytes} produces the canonical value.
 *
 * <p><b>Constant time.</b> No method branches on or indexes memory by element values; {@link
 * #cswap} and {@link #cmov} use masks. Multiplication instructions on the targeted CPUs take a
 * fixed number of cycles. Variable-time use on public data (signature verification) is the caller's
 * choice.
 *
 * <p>Stateless; methods may alias their output with an input. Internal to mxe2ee's curve code.
 */
public final class Field25519 {
  /** Number of limbs. */
  public static final int LIMBS = 5;

  static final long MASK51 = (1L << 51) - 1;

  /** 2p in limbs, added before a subtraction so that every limb stays non-negative. */
  private static final long TWO_P0 = 0xFFFFFFFFFFFDAL;

  private static final long TWO_P1234 = 0xFFFFFFFFFFFFEL;

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
   * the limbs of {@code f} below 2^53 (e.g. the sum of two reduced elements); the result is loose
   * (limbs below 3·2^52), not a valid input to {@link #sub}.
   */
  public static void subLoose(long[] f, long[] g, long[] h) {
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

  /** {@code h = f · g}, reduced; {@code f} and {@code g} loose (limbs below 3·2^52). */
  public static void mul(long[] f, long[] g, long[] h) {
    long f0 = f[0] << 8;
    long f1 = f[1] << 8;
    long f2 = f[2] << 8;
    long f3 = f[3] << 8;
    long f4 = f[4] << 8;
    long g0 = g[0] << 5;
    long g1 = g[1] << 5;
    long g2 = g[2] << 5;
    long g3 = g[3] << 5;
    long g4 = g[4] << 5;
    long n1 = 19 * g1;
    long n2 = 19 * g2;
    long n3 = 19 * g3;
    long n4 = 19 * g4;
    long l0 = low(f0, g0) + low(f1, n4) + low(f2, n3) + low(f3, n2) + low(f4, n1);
    long c0 = high(f0, g0) + high(f1, n4) + high(f2, n3) + high(f3, n2) + high(f4, n1);
    long l1 = low(f0, g1) + low(f1, g0) + low(f2, n4) + low(f3, n3) + low(f4, n2);
    long c1 = high(f0, g1) + high(f1, g0) + high(f2, n4) + high(f3, n3) + high(f4, n2);
    long l2 = low(f0, g2) + low(f1, g1) + low(f2, g0) + low(f3, n4) + low(f4, n3);
    long c2 = high(f0, g2) + high(f1, g1) + high(f2, g0) + high(f3, n4) + high(f4, n3);
    long l3 = low(f0, g3) + low(f1, g2) + low(f2, g1) + low(f3, g0) + low(f4, n4);
    long c3 = high(f0, g3) + high(f1, g2) + high(f2, g1) + high(f3, g0) + high(f4, n4);
    long l4 = low(f0, g4) + low(f1, g3) + low(f2, g2) + low(f3, g1) + low(f4, g0);
    long c4 = high(f0, g4) + high(f1, g3) + high(f2, g2) + high(f3, g1) + high(f4, g0);
    reduce(l0, c0, l1, c1, l2, c2, l3, c3, l4, c4, h);
  }

  /** {@code h = f^2}, reduced; {@code f} loose (limbs below 3·2^52). */
  public static void square(long[] f, long[] h) {
    long f0 = f[0] << 5;
    long f1 = f[1] << 5;
    long f2 = f[2] << 5;
    long f3 = f[3] << 5;
    long f4 = f[4] << 5;
    long d0 = f0 << 4; // 2·f0, shifted by 8 in total
    long d1 = f1 << 4;
    long d2 = f2 << 4;
    long d3 = f3 << 4;
    long e1 = f1 << 3; // f1, shifted by 8
    long e2 = f2 << 3;
    long e3 = f3 << 3;
    long n3 = 19 * f3;
    long n4 = 19 * f4;
    long l0 = low(f0 << 3, f0) + low(d1, n4) + low(d2, n3);
    long c0 = high(f0 << 3, f0) + high(d1, n4) + high(d2, n3);
    long l1 = low(d0, f1) + low(d2, n4) + low(e3, n3);
    long c1 = high(d0, f1) + high(d2, n4) + high(e3, n3);
    long l2 = low(d0, f2) + low(e1, f1) + low(d3, n4);
    long c2 = high(d0, f2) + high(e1, f1) + high(d3, n4);
    long l3 = low(d0, f3) + low(d1, f2) + low(f4 << 3, n4);
    long c3 = high(d0, f3) + high(d1, f2) + high(f4 << 3, n4);
    long l4 = low(d0, f4) + low(d1, f3) + low(e2, f2);
    long c4 = high(d0, f4) + high(d1, f3) + high(e2, f2);
    reduce(l0, c0, l1, c1, l2, c2, l3, c3, l4, c4, h);
  }

  /** For operands shifted left by 8 and 5 bits: the product of the originals modulo 2^51. */
  private static long low(long f, long g) {
    return (f * g) >>> 13;
  }

  /** For operands shifted left by 8 and 5 bits: the product of the originals divided by 2^51. */
  private static long high(long f, long g) {
    return Math.multiplyHigh(f, g);
  }

  /**
   * Turns five limb sums, each given as the sum of its products modulo 2^51 ({@code l_k}, below
   * 2^54) and the sum of its products divided by 2^51 ({@code c_k}, below 2^62), into a reduced
   * element with one parallel carry round.
   */
  private static void reduce(
      long l0,
      long c0,
      long l1,
      long c1,
      long l2,
      long c2,
      long l3,
      long c3,
      long l4,
      long c4,
      long[] h) {
    long t0 = (l0 & MASK51) + 19 * (c4 + (l4 >>> 51));
    long t1 = (l1 & MASK51) + c0 + (l0 >>> 51);
    long t2 = (l2 & MASK51) + c1 + (l1 >>> 51);
    long t3 = (l3 & MASK51) + c2 + (l2 >>> 51);
    long t4 = (l4 & MASK51) + c3 + (l3 >>> 51);
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

  /** {@code h = 1/f} (Fermat: {@code f^(p-2)}); zero maps to zero. Constant time. */
  public static void invert(long[] f, long[] h) {
    long[] t0 = create();
    long[] t1 = create();
    long[] t2 = create();
    long[] t3 = create();
    // Addition chain for 2^255 - 21: standard sequence of 254 squarings and 11 multiplications.
    square(f, t0); // 2
    squareTimes(t0, 2, t1); // 8
    mul(f, t1, t1); // 9
    mul(t0, t1, t0); // 11
    square(t0, t2); // 22
    mul(t1, t2, t1); // 2^5 - 1
    squareTimes(t1, 5, t2);
    mul(t2, t1, t1); // 2^10 - 1
    squareTimes(t1, 10, t2);
    mul(t2, t1, t2); // 2^20 - 1
    squareTimes(t2, 20, t3);
    mul(t3, t2, t2); // 2^40 - 1
    squareTimes(t2, 10, t2);
    mul(t2, t1, t1); // 2^50 - 1
    squareTimes(t1, 50, t2);
    mul(t2, t1, t2); // 2^100 - 1
    squareTimes(t2, 100, t3);
    mul(t3, t2, t2); // 2^200 - 1
    squareTimes(t2, 50, t2);
    mul(t2, t1, t1); // 2^250 - 1
    squareTimes(t1, 5, t1); // 2^255 - 2^5
    mul(t1, t0, h); // 2^255 - 21
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
