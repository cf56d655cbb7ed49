package io.github.mxe2ee.crypto.curve;

import java.math.BigInteger;

/**
 * A point of edwards25519, the twisted Edwards curve {@code -x^2 + y^2 = 1 + d x^2 y^2} of RFC 8032
 * section 5.1, in extended coordinates {@code (X : Y : Z : T)} with {@code x = X/Z}, {@code y =
 * Y/Z}, {@code x·y = T/Z} (Hisil, Wong, Carter, Dawson, "Twisted Edwards curves revisited", 2008).
 *
 * <p>Additions use the unified formulas {@code add-2008-hwcd-3} (with an addend in {@link Cached}
 * or {@link Precomputed} form: 8 or 7 multiplications) and doublings {@code dbl-2008-hwcd} (4
 * squarings, 4 multiplications). Both are complete on this curve and run in constant time; nothing
 * here branches on coordinates except {@link #decode}, which handles public encodings.
 *
 * <p>Mutable and not thread-safe: each instance carries scratch space, so one thread at a time uses
 * it. Coordinates are always reduced {@link Field25519} elements. Internal to mxe2ee's curve code.
 */
public final class EdwardsPoint {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));

  /** {@code d = -121665/121666}. */
  static final long[] D = constant(P.subtract(ratio(121665, 121666)));

  /** {@code 2d}. */
  static final long[] D2 = constant(P.subtract(ratio(121665, 121666)).shiftLeft(1).mod(P));

  /** {@code 1/d = -121666/121665}, for {@link #set(Cached)}. */
  private static final long[] D_INV = constant(P.subtract(ratio(121666, 121665)));

  /** A square root of -1: {@code 2^((p-1)/4)}. */
  static final long[] SQRT_M1 =
      constant(BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P));

  private static final byte[] BASE_ENCODING = baseEncoding();

  final long[] x = Field25519.create();
  final long[] y = Field25519.create();
  final long[] z = Field25519.create();
  final long[] t = Field25519.create();
  private final long[] a = Field25519.create();
  private final long[] b = Field25519.create();
  private final long[] c = Field25519.create();
  private final long[] d = Field25519.create();
  private final long[] e = Field25519.create();
  private final long[] f = Field25519.create();
  private final long[] g = Field25519.create();
  private final long[] h = Field25519.create();

  /** A new neutral element (0, 1). */
  public EdwardsPoint() {
    setIdentity();
  }

  /** The base point B of RFC 8032 section 5.1. */
  public static EdwardsPoint base() {
    EdwardsPoint p = new EdwardsPoint();
    if (!decode(BASE_ENCODING, 0, p)) {
      throw new IllegalStateException("base point does not decode");
    }
    return p;
  }

  /** Sets this point to the neutral element. */
  public void setIdentity() {
    Field25519.zero(x);
    Field25519.one(y);
    Field25519.one(z);
    Field25519.zero(t);
  }

  /** Sets this point to {@code p}. */
  public void set(EdwardsPoint p) {
    Field25519.copy(p.x, x);
    Field25519.copy(p.y, y);
    Field25519.copy(p.z, z);
    Field25519.copy(p.t, t);
  }

  /**
   * Sets this point to the point whose cached form is {@code q}, with one multiplication: {@code
   * (Y+X) - (Y-X) = 2X}, {@code (Y+X) + (Y-X) = 2Y}, {@code 2Z}, and {@code 2dT / d = 2T} give the
   * same projective point scaled by 2. Lets a sum that starts from a cached addend (a bucket of a
   * multi-scalar multiplication) skip the addition to the neutral element. Constant time.
   */
  public void set(Cached q) {
    Field25519.sub(q.yPlusX, q.yMinusX, x);
    Field25519.add(q.yPlusX, q.yMinusX, y);
    Field25519.carry(y);
    Field25519.copy(q.z2, z);
    Field25519.mul(q.t2d, D_INV, t);
  }

  /**
   * True if this point is the neutral element {@code (0, 1)}, i.e. {@code X = 0} and {@code Y = Z}.
   * Constant time.
   */
  public boolean isNeutral() {
    Field25519.sub(y, z, a);
    return Field25519.isZero(x) & Field25519.isZero(a);
  }

  /**
   * Decodes a 32-byte point encoding (RFC 8032 section 5.1.3) at {@code off} into {@code out}.
   * Returns false, leaving {@code out} unspecified, if {@code y >= p}, if {@code x^2} has no square
   * root, or if {@code x = 0} with the sign bit set. Not constant time (encodings are public).
   */
  public static boolean decode(byte[] in, int off, EdwardsPoint out) {
    if (!Field25519.isCanonical(in, off)) {
      return false;
    }
    int sign = (in[off + 31] >>> 7) & 1;
    long[] y = out.y;
    long[] u = out.a;
    long[] v = out.b;
    long[] v3 = out.c;
    long[] x = out.x;
    long[] check = out.d;
    Field25519.fromBytes(in, off, y);
    Field25519.square(y, u);
    Field25519.mul(u, D, v);
    long[] one = out.e;
    Field25519.one(one);
    Field25519.sub(u, one, u); // u = y^2 - 1
    Field25519.add(v, one, v);
    Field25519.carry(v); // v = d y^2 + 1
    Field25519.square(v, v3);
    Field25519.mul(v3, v, v3); // v^3
    Field25519.square(v3, x);
    Field25519.mul(x, v, x);
    Field25519.mul(x, u, x); // u v^7
    Field25519.powP58(x, x);
    Field25519.mul(x, v3, x);
    Field25519.mul(x, u, x); // x = u v^3 (u v^7)^((p-5)/8)
    Field25519.square(x, check);
    Field25519.mul(check, v, check); // v x^2
    Field25519.sub(check, u, out.f);
    if (!Field25519.isZero(out.f)) {
      Field25519.add(check, u, out.f);
      Field25519.carry(out.f);
      if (!Field25519.isZero(out.f)) {
        return false;
      }
      Field25519.mul(x, SQRT_M1, x);
    }
    if (Field25519.isZero(x) && sign == 1) {
      return false;
    }
    if (Field25519.isNegative(x) != sign) {
      Field25519.negate(x, x);
    }
    Field25519.one(out.z);
    Field25519.mul(x, y, out.t);
    return true;
  }

  /**
   * Writes the 32-byte encoding of this point (RFC 8032 section 5.1.2) at {@code off}. Safe for
   * secret points: the inversion is blinded ({@link FieldInverse#invertBlinded}).
   */
  public void encode(byte[] out, int off) {
    FieldInverse.invertBlinded(z, a);
    encodeWithInverse(out, off);
  }

  /**
   * {@link #encode} for a public point (signature verification): the same bytes, with an unblinded
   * variable-time inversion.
   */
  public void encodePublic(byte[] out, int off) {
    FieldInverse.invertVarTime(z, a);
    encodeWithInverse(out, off);
  }

  private void encodeWithInverse(byte[] out, int off) {
    Field25519.mul(x, a, b);
    Field25519.mul(y, a, c);
    Field25519.toBytes(c, out, off);
    out[off + 31] |= (byte) (Field25519.isNegative(b) << 7);
  }

  /**
   * Writes the Montgomery u-coordinate of this point, {@code (1 + y) / (1 - y)} (RFC 7748 section
   * 4.1), as 32 bytes at {@code off}: the X25519 public key of the same scalar.
   */
  public void encodeMontgomery(byte[] out, int off) {
    Field25519.add(z, y, a);
    Field25519.subLoose(z, y, b);
    FieldInverse.invertBlinded(b, b);
    Field25519.mul(a, b, c);
    Field25519.toBytes(c, out, off);
  }

  /** {@code this = this + q}. */
  public void add(Cached q) {
    addAddend(q.yPlusX, q.yMinusX, q.t2d, q.z2, false);
  }

  /** {@code this = this - q}. */
  public void sub(Cached q) {
    addAddend(q.yPlusX, q.yMinusX, q.t2d, q.z2, true);
  }

  /** {@code this = this + q} for an affine precomputed {@code q}. */
  public void add(Precomputed q) {
    addAddend(q.yPlusX, q.yMinusX, q.xy2d, null, false);
  }

  /** {@code this = this - q} for an affine precomputed {@code q}. */
  public void sub(Precomputed q) {
    addAddend(q.yPlusX, q.yMinusX, q.xy2d, null, true);
  }

  /**
   * add-2008-hwcd-3 with an addend {@code (y + x, y - x, 2d·t, 2z)}; {@code z2} null means an
   * affine addend ({@code 2z = 2}). Subtracting the addend negates its x: {@code y + x} and {@code
   * y - x} trade places and {@code 2d·t} changes sign, which swaps F and G. {@code negate} is a
   * property of the call site, never of secret data.
   */
  private void addAddend(long[] yPlusX, long[] yMinusX, long[] t2d, long[] z2, boolean negate) {
    Field25519.subLoose(y, x, a);
    Field25519.mul(a, negate ? yPlusX : yMinusX, a);
    Field25519.add(y, x, b);
    Field25519.mul(b, negate ? yMinusX : yPlusX, b);
    Field25519.mul(t, t2d, c);
    if (z2 == null) {
      Field25519.add(z, z, d);
    } else {
      Field25519.mul(z, z2, d);
    }
    Field25519.subLoose(d, c, negate ? g : f);
    Field25519.add(d, c, negate ? f : g);
    finish(a, b, f, g);
  }

  /** The common tail of an addition: E = B - A, H = B + A; X = EF, Y = GH, T = EH, Z = FG. */
  private void finish(long[] aa, long[] bb, long[] ff, long[] gg) {
    Field25519.subLoose(bb, aa, e);
    Field25519.add(bb, aa, h);
    Field25519.mul(e, ff, x);
    Field25519.mul(gg, h, y);
    Field25519.mul(e, h, t);
    Field25519.mul(ff, gg, z);
  }

  /** {@code this = 2·this}. */
  public void doublePoint() {
    doubleInto(true);
  }

  /** {@code this = 2^n·this}, skipping the T coordinate on all but the last doubling. */
  public void doubleTimes(int n) {
    for (int i = 1; i < n; i++) {
      doubleInto(false);
    }
    doubleInto(true);
  }

  /**
   * dbl-2008-hwcd for a = -1 with E, F, G, H all negated (the projective point is unchanged), which
   * keeps every intermediate within {@link Field25519}'s loose bound.
   */
  private void doubleInto(boolean withT) {
    Field25519.square(x, a); // A = X^2
    Field25519.square(y, b); // B = Y^2
    Field25519.square(z, c);
    Field25519.add(c, c, c);
    Field25519.carry(c); // C = 2 Z^2, reduced so that -F = C - G below stays loose
    Field25519.add(x, y, d);
    Field25519.square(d, d); // (X + Y)^2
    Field25519.add(a, b, h); // -H = A + B
    Field25519.subLoose(h, d, e); // -E = A + B - (X + Y)^2
    Field25519.subLoose(a, b, g); // -G = A - B
    Field25519.add(c, g, f); // -F = C - G
    Field25519.mul(e, f, x);
    Field25519.mul(g, h, y);
    Field25519.mul(f, g, z);
    if (withT) {
      Field25519.mul(e, h, t);
    }
  }

  /** Sets {@code out} to the cached form of this point. */
  public void toCached(Cached out) {
    Field25519.add(y, x, out.yPlusX);
    Field25519.carry(out.yPlusX);
    Field25519.sub(y, x, out.yMinusX);
    Field25519.add(z, z, out.z2);
    Field25519.carry(out.z2);
    Field25519.mul(t, D2, out.t2d);
  }

  /**
   * Sets {@code out} to the affine precomputed form of this point (one inversion, variable time:
   * for public points only, such as the multiples of the base point in tables).
   */
  public void toPrecomputed(Precomputed out) {
    FieldInverse.invertVarTime(z, a);
    Field25519.mul(x, a, b); // x
    Field25519.mul(y, a, c); // y
    Field25519.add(c, b, out.yPlusX);
    Field25519.carry(out.yPlusX);
    Field25519.sub(c, b, out.yMinusX);
    Field25519.mul(b, c, out.xy2d);
    Field25519.mul(out.xy2d, D2, out.xy2d);
  }

  /** A point prepared as an addend: {@code (Y + X, Y - X, 2Z, 2d·T)}, all reduced. */
  public static final class Cached {
    final long[] yPlusX = Field25519.create();
    final long[] yMinusX = Field25519.create();
    final long[] z2 = Field25519.create();
    final long[] t2d = Field25519.create();
  }

  /**
   * An affine point prepared as an addend: {@code (y + x, y - x, 2d·x·y)}, all reduced; the entries
   * of precomputed tables.
   */
  public static final class Precomputed {
    final long[] yPlusX = Field25519.create();
    final long[] yMinusX = Field25519.create();
    final long[] xy2d = Field25519.create();

    /** A new neutral element {@code (1, 1, 0)}. */
    public Precomputed() {
      Field25519.one(yPlusX);
      Field25519.one(yMinusX);
    }
  }

  private static BigInteger ratio(long num, long den) {
    return BigInteger.valueOf(num).multiply(BigInteger.valueOf(den).modInverse(P)).mod(P);
  }

  private static long[] constant(BigInteger v) {
    long[] h = Field25519.create();
    BigInteger mask = BigInteger.ONE.shiftLeft(51).subtract(BigInteger.ONE);
    for (int i = 0; i < Field25519.LIMBS; i++) {
      h[i] = v.shiftRight(51 * i).and(mask).longValueExact();
    }
    return h;
  }

  private static byte[] baseEncoding() {
    byte[] enc = new byte[32];
    java.util.Arrays.fill(enc, (byte) 0x66);
    enc[0] = 0x58;
    return enc;
  }
}
