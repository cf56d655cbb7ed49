package io.github.mxe2ee.crypto;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bouncycastle.math.ec.rfc7748.X25519Field;

/**
 * Ed25519 batch verification (RFC 8032 section 5.1.7, cofactored equation; Bernstein et al., "High-
 * speed high-security signatures", section 5): checks many signatures with one multi-scalar
 * multiplication instead of one double-scalar multiplication each. Megolm decryption of a backlog
 * verifies hundreds of signatures by the same session key, and one Ed25519 verification is ~95% of
 * a Megolm decrypt; batching makes the per-signature cost several times lower. Verification handles
 * no secrets, so the variable-time arithmetic here leaks nothing.
 *
 * <p>For random 128-bit {@code z_i} it checks {@code [8]( [sum z_i k_i]A + sum [z_i]R_i - [sum z_i
 * s_i]B ) = 0}, where {@code k_i = SHA-512(R_i || A_i || M_i) mod L} (keys that appear several
 * times are combined into one term). If any signature is invalid the equation fails except with
 * probability about 2^-128; the batch then falls back to Bouncy Castle's single verification of
 * every item, so the per-item results equal {@link Ed25519PublicKey#verify} except in one
 * documented respect: a signature accepted by the batch but not by single verification must carry a
 * small-order (torsion) component, which only the holder of the private key can put there; the
 * cofactored equation is RFC 8032's own, and it cannot be used to forge for a key one does not
 * hold. Items are rejected up front, without entering the batch, if {@code s >= L} or {@code R} is
 * a non-canonical or small-order encoding.
 *
 * <p>The group arithmetic (extended twisted Edwards coordinates, Hisil-Wong-Carter-Dawson 2008) is
 * ours; field arithmetic is Bouncy Castle's {@link X25519Field}. The multi-scalar multiplication is
 * Pippenger's bucket method with all scalars cut to 128 bits ({@code s = s_lo + 2^128 s_hi}, using
 * precomputed {@code 2^128 B} and {@code 2^128 A}).
 *
 * <p>Stateless and thread-safe; each call uses its own buffers. Inputs are not modified.
 */
public final class Ed25519BatchVerifier {
  /**
   * Below this many signatures the batch is not faster than single verification (the fixed cost of
   * the {@code 2^128 A} precomputation and the bucket sums dominates), so they are verified singly.
   */
  public static final int MIN_BATCH_SIZE = 8;

  /**
   * Largest batch handled in one multi-scalar multiplication; longer inputs are split. Bounds the
   * memory held (about 250 bytes per signature) and the cost of the fallback after a failure.
   */
  public static final int MAX_BATCH_SIZE = 4096;

  private static final int SCALAR_BITS = 128;
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
  private static final BigInteger MASK128 = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
  private static final int[] D = fieldConstant(minusRatio(121665, 121666));
  private static final int[] D2 = fieldConstant(minusRatio(121665, 121666).shiftLeft(1).mod(P));
  private static final byte[] BASE_ENCODED = baseEncoding();
  private static final Affine BASE = decompress(BASE_ENCODED, 0);
  private static final Affine BASE_128 = BASE.timesTwoPow(SCALAR_BITS);

  /**
   * The y coordinates (canonical little-endian encodings, sign bit clear) of the eight points of
   * small order: 1 (the neutral element), p-1 (order 2), 0 (order 4) and the pair of order 8. Every
   * point whose encoding has one of these y is of small order, so a byte comparison replaces three
   * point doublings per signature. The test checks each against {@code [8]P = 0}.
   */
  static final byte[][] SMALL_ORDER_Y = {
    hexConstant("0100000000000000000000000000000000000000000000000000000000000000"),
    hexConstant("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    hexConstant("0000000000000000000000000000000000000000000000000000000000000000"),
    hexConstant("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    hexConstant("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
  };

  private Ed25519BatchVerifier() {}

  /** True if the point encoded at {@code off} has a small-order y (sign bit ignored). */
  static boolean hasSmallOrderEncoding(byte[] encoded, int off) {
    for (byte[] y : SMALL_ORDER_Y) {
      boolean same = (encoded[off + 31] & 0x7F) == y[31];
      for (int i = 0; same && i < 31; i++) {
        same = encoded[off + i] == y[i];
      }
      if (same) {
        return true;
      }
    }
    return false;
  }

  private static byte[] hexConstant(String hex) {
    return java.util.HexFormat.of().parseHex(hex);
  }

  /**
   * Verifies {@code signatures.get(i)} over {@code messages.get(i)} with {@code keys.get(i)}.
   *
   * @param random source of the random batch coefficients (not secret, but must be unpredictable to
   *     whoever made the signatures)
   * @return one result per item, true if that signature is valid
   * @throws IllegalArgumentException if the three lists differ in length
   * @throws NullPointerException if any argument or element is null
   */
  public static boolean[] verify(
      List<Ed25519PublicKey> keys,
      List<byte[]> messages,
      List<Ed25519Signature> signatures,
      SecureRandom random) {
    int n = keys.size();
    if (messages.size() != n || signatures.size() != n) {
      throw new IllegalArgumentException(
          "batch verify: expected equal list sizes, got keys="
              + n
              + " messages="
              + messages.size()
              + " signatures="
              + signatures.size());
    }
    boolean[] result = new boolean[n];
    for (int start = 0; start < n; start += MAX_BATCH_SIZE) {
      int end = Math.min(n, start + MAX_BATCH_SIZE);
      verifyChunk(keys, messages, signatures, random, start, end, result);
    }
    return result;
  }

  /**
   * Verifies many signatures by one key (a Megolm session's messages).
   *
   * @see #verify(List, List, List, SecureRandom)
   */
  public static boolean[] verify(
      Ed25519PublicKey key,
      List<byte[]> messages,
      List<Ed25519Signature> signatures,
      SecureRandom random) {
    List<Ed25519PublicKey> keys = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      keys.add(key);
    }
    return verify(keys, messages, signatures, random);
  }

  private static void verifyChunk(
      List<Ed25519PublicKey> keys,
      List<byte[]> messages,
      List<Ed25519Signature> signatures,
      SecureRandom random,
      int start,
      int end,
      boolean[] result) {
    if (end - start < MIN_BATCH_SIZE) {
      for (int i = start; i < end; i++) {
        result[i] = keys.get(i).verify(messages.get(i), signatures.get(i));
      }
      return;
    }
    List<Integer> batched = new ArrayList<>(end - start);
    Boolean holds = batchEquation(keys, messages, signatures, random, start, end, batched);
    if (holds != null && holds) {
      for (int i : batched) {
        result[i] = true;
      }
      return;
    }
    // At least one signature in the batch is bad (or a key did not decode): find which.
    for (int i : batched) {
      result[i] = keys.get(i).verify(messages.get(i), signatures.get(i));
    }
  }

  /**
   * Checks the batch equation over items {@code [start, end)}. Items rejected up front stay out of
   * {@code batchedOut}; the rest are added to it.
   *
   * @return whether the equation holds, or null if a key could not be decoded
   */
  static Boolean batchEquation(
      List<Ed25519PublicKey> keys,
      List<byte[]> messages,
      List<Ed25519Signature> signatures,
      SecureRandom random,
      int start,
      int end,
      List<Integer> batchedOut) {
    int n = end - start;
    MessageDigest sha512 = Sha256.newDigest("SHA-512");
    byte[] coefficients = new byte[16 * n];
    random.nextBytes(coefficients);
    Map<Ed25519PublicKey, Integer> keyIndex = new HashMap<>();
    List<Ed25519PublicKey> distinctKeys = new ArrayList<>();
    List<BigInteger> keyScalars = new ArrayList<>();
    List<Affine> points = new ArrayList<>(n + 8);
    List<long[]> scalars = new ArrayList<>(n + 8);
    BigInteger sSum = BigInteger.ZERO;
    byte[] k = new byte[64];
    for (int i = start; i < end; i++) {
      byte[] sig = signatures.get(i).rawBytes();
      BigInteger s = leToInt(sig, 32, 32);
      if (s.compareTo(L) >= 0) {
        continue;
      }
      if (hasSmallOrderEncoding(sig, 0)) {
        continue;
      }
      Affine r = decompress(sig, 0);
      if (r == null) {
        continue;
      }
      Ed25519PublicKey key = keys.get(i);
      byte[] message = messages.get(i);
      sha512.update(sig, 0, 32);
      sha512.update(key.rawBytes());
      sha512.update(message);
      try {
        sha512.digest(k, 0, 64);
      } catch (java.security.DigestException e) {
        throw new IllegalStateException("SHA-512 output buffer", e);
      }
      BigInteger h = leToInt(k, 0, 64).mod(L);
      int zOff = 16 * (i - start);
      long zLo = leLong(coefficients, zOff);
      long zHi = leLong(coefficients, zOff + 8);
      if (zLo == 0 && zHi == 0) {
        zLo = 1;
      }
      BigInteger z = toBigInteger(zLo, zHi);
      sSum = sSum.add(z.multiply(s));
      Integer ki = keyIndex.get(key);
      if (ki == null) {
        ki = distinctKeys.size();
        keyIndex.put(key, ki);
        distinctKeys.add(key);
        keyScalars.add(BigInteger.ZERO);
      }
      keyScalars.set(ki, keyScalars.get(ki).add(z.multiply(h)));
      points.add(r);
      scalars.add(new long[] {zLo, zHi});
      batchedOut.add(i);
    }
    if (batchedOut.isEmpty()) {
      return Boolean.TRUE;
    }
    for (int j = 0; j < distinctKeys.size(); j++) {
      Affine a = decompress(distinctKeys.get(j).rawBytes(), 0);
      if (a == null) {
        return null;
      }
      addSplit(points, scalars, a, a.timesTwoPow(SCALAR_BITS), keyScalars.get(j).mod(L));
    }
    BigInteger t = L.subtract(sSum.mod(L)).mod(L);
    addSplit(points, scalars, BASE, BASE_128, t);
    Extended sum = multiScalarMultiply(points, scalars);
    return sum.timesEight().isIdentity();
  }

  private static void addSplit(
      List<Affine> points, List<long[]> scalars, Affine p, Affine p128, BigInteger scalar) {
    BigInteger lo = scalar.and(MASK128);
    BigInteger hi = scalar.shiftRight(SCALAR_BITS);
    points.add(p);
    scalars.add(new long[] {lo.longValue(), lo.shiftRight(64).longValue()});
    points.add(p128);
    scalars.add(new long[] {hi.longValue(), hi.shiftRight(64).longValue()});
  }

  /** Pippenger's bucket method over 128-bit scalars. */
  static Extended multiScalarMultiply(List<Affine> points, List<long[]> scalars) {
    int n = points.size();
    int c = windowBits(n);
    int windows = (SCALAR_BITS + c - 1) / c;
    Extended[] buckets = new Extended[1 << c];
    for (int b = 1; b < buckets.length; b++) {
      buckets[b] = Extended.identity();
    }
    boolean[] used = new boolean[1 << c];
    Extended acc = Extended.identity();
    Extended running = Extended.identity();
    Extended partial = Extended.identity();
    for (int w = windows - 1; w >= 0; w--) {
      for (int i = 0; i < c && w != windows - 1; i++) {
        acc.doubleInPlace();
      }
      java.util.Arrays.fill(used, false);
      int bit = w * c;
      for (int j = 0; j < n; j++) {
        long[] s = scalars.get(j);
        int d = digit(s[0], s[1], bit, c);
        if (d != 0) {
          if (used[d]) {
            buckets[d].addInPlace(points.get(j));
          } else {
            buckets[d].set(points.get(j));
            used[d] = true;
          }
        }
      }
      running.setIdentity();
      partial.setIdentity();
      boolean any = false;
      for (int d = buckets.length - 1; d >= 1; d--) {
        if (used[d]) {
          running.addInPlace(buckets[d]);
          any = true;
        }
        if (any) {
          partial.addInPlace(running);
        }
      }
      if (any) {
        acc.addInPlace(partial);
      }
    }
    return acc;
  }

  /** The window width that minimises {@code ceil(128/c) * (n + 2^(c+1))} point additions. */
  static int windowBits(int n) {
    int best = 1;
    long bestCost = Long.MAX_VALUE;
    for (int c = 1; c <= 12; c++) {
      long cost = (long) ((SCALAR_BITS + c - 1) / c) * (n + (2L << c));
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
    }
    return best;
  }

  static int digit(long lo, long hi, int bit, int width) {
    long v;
    if (bit >= 64) {
      v = hi >>> (bit - 64);
    } else if (bit + width <= 64) {
      v = lo >>> bit;
    } else {
      v = (lo >>> bit) | (hi << (64 - bit));
    }
    return (int) (v & ((1L << width) - 1));
  }

  // ---------------------------------------------------------------- points

  /**
   * An affine point with the values mixed addition needs: {@code y+x}, {@code y-x}, {@code 2d*x*y}.
   */
  static final class Affine {
    final int[] x;
    final int[] y;
    final int[] ypx = X25519Field.create();
    final int[] ymx = X25519Field.create();
    final int[] xy2d = X25519Field.create();

    Affine(int[] x, int[] y) {
      this.x = x;
      this.y = y;
      X25519Field.add(y, x, ypx);
      X25519Field.carry(ypx);
      X25519Field.sub(y, x, ymx);
      X25519Field.carry(ymx);
      X25519Field.mul(x, y, xy2d);
      X25519Field.mul(xy2d, D2, xy2d);
    }

    /** {@code 2^k * this}, back in affine form. */
    Affine timesTwoPow(int k) {
      Extended e = Extended.identity();
      e.set(this);
      for (int i = 0; i < k; i++) {
        e.doubleInPlace();
      }
      return e.toAffine();
    }

    boolean hasSmallOrder() {
      Extended e = Extended.identity();
      e.set(this);
      return e.timesEight().isIdentity();
    }
  }

  /** A point in extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z; mutable. */
  static final class Extended {
    final int[] x = X25519Field.create();
    final int[] y = X25519Field.create();
    final int[] z = X25519Field.create();
    final int[] t = X25519Field.create();
    private final int[] a = X25519Field.create();
    private final int[] b = X25519Field.create();
    private final int[] c = X25519Field.create();
    private final int[] d = X25519Field.create();
    private final int[] e = X25519Field.create();
    private final int[] f = X25519Field.create();
    private final int[] g = X25519Field.create();
    private final int[] h = X25519Field.create();

    static Extended identity() {
      Extended p = new Extended();
      p.setIdentity();
      return p;
    }

    void setIdentity() {
      X25519Field.zero(x);
      X25519Field.one(y);
      X25519Field.one(z);
      X25519Field.zero(t);
    }

    void set(Affine p) {
      X25519Field.copy(p.x, 0, x, 0);
      X25519Field.copy(p.y, 0, y, 0);
      X25519Field.one(z);
      X25519Field.mul(p.x, p.y, t);
    }

    /** this += q (q affine), 7 multiplications. */
    void addInPlace(Affine q) {
      X25519Field.sub(y, x, a);
      X25519Field.mul(a, q.ymx, a);
      X25519Field.add(y, x, b);
      X25519Field.mul(b, q.ypx, b);
      X25519Field.mul(t, q.xy2d, c);
      X25519Field.add(z, z, d);
      finish();
    }

    /** this += q, 9 multiplications; q may be this. */
    void addInPlace(Extended q) {
      X25519Field.sub(y, x, a);
      X25519Field.sub(q.y, q.x, e);
      X25519Field.mul(a, e, a);
      X25519Field.add(y, x, b);
      X25519Field.add(q.y, q.x, e);
      X25519Field.mul(b, e, b);
      X25519Field.mul(t, D2, c);
      X25519Field.mul(c, q.t, c);
      X25519Field.mul(z, q.z, d);
      X25519Field.add(d, d, d);
      finish();
    }

    /** From A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), C = 2d T1 T2, D = 2 Z1 Z2. */
    private void finish() {
      X25519Field.sub(b, a, e);
      X25519Field.carry(e);
      X25519Field.sub(d, c, f);
      X25519Field.carry(f);
      X25519Field.add(d, c, g);
      X25519Field.carry(g);
      X25519Field.add(b, a, h);
      X25519Field.carry(h);
      X25519Field.mul(e, f, x);
      X25519Field.mul(g, h, y);
      X25519Field.mul(e, h, t);
      X25519Field.mul(f, g, z);
    }

    /** this = 2 * this (a = -1 twisted Edwards doubling). */
    void doubleInPlace() {
      X25519Field.sqr(x, a); // A = X^2
      X25519Field.sqr(y, b); // B = Y^2
      X25519Field.sqr(z, c);
      X25519Field.add(c, c, c); // C = 2 Z^2
      X25519Field.add(x, y, d);
      X25519Field.carry(d);
      X25519Field.sqr(d, d); // (X+Y)^2
      X25519Field.add(a, b, h); // A + B
      X25519Field.carry(h);
      X25519Field.sub(d, h, e); // E = (X+Y)^2 - A - B
      X25519Field.carry(e);
      X25519Field.sub(b, a, g); // G = B - A
      X25519Field.carry(g);
      X25519Field.sub(g, c, f); // F = G - C
      X25519Field.carry(f);
      X25519Field.negate(h, h); // H = -A - B
      X25519Field.mul(e, f, x);
      X25519Field.mul(g, h, y);
      X25519Field.mul(e, h, t);
      X25519Field.mul(f, g, z);
    }

    Extended timesEight() {
      Extended r = new Extended();
      X25519Field.copy(x, 0, r.x, 0);
      X25519Field.copy(y, 0, r.y, 0);
      X25519Field.copy(z, 0, r.z, 0);
      X25519Field.copy(t, 0, r.t, 0);
      r.doubleInPlace();
      r.doubleInPlace();
      r.doubleInPlace();
      return r;
    }

    boolean isIdentity() {
      int[] xx = X25519Field.create();
      X25519Field.copy(x, 0, xx, 0);
      X25519Field.normalize(xx);
      int[] diff = X25519Field.create();
      X25519Field.sub(y, z, diff);
      X25519Field.normalize(diff);
      return X25519Field.isZeroVar(xx) && X25519Field.isZeroVar(diff);
    }

    Affine toAffine() {
      int[] zInv = X25519Field.create();
      X25519Field.invVar(z, zInv);
      int[] ax = X25519Field.create();
      int[] ay = X25519Field.create();
      X25519Field.mul(x, zInv, ax);
      X25519Field.mul(y, zInv, ay);
      X25519Field.normalize(ax);
      X25519Field.normalize(ay);
      return new Affine(ax, ay);
    }
  }

  /**
   * Decodes a point (RFC 8032 section 5.1.3), rejecting non-canonical y and the non-canonical
   * encoding of x = 0 with the sign bit set.
   *
   * @return the point, or null if the encoding is invalid
   */
  static Affine decompress(byte[] encoded, int off) {
    byte[] yBytes = new byte[32];
    System.arraycopy(encoded, off, yBytes, 0, 32);
    int sign = (yBytes[31] & 0x80) >>> 7;
    yBytes[31] &= 0x7F;
    if (!isCanonicalFieldElement(yBytes)) {
      return null;
    }
    int[] y = X25519Field.create();
    X25519Field.decode(yBytes, 0, y);
    int[] u = X25519Field.create();
    int[] v = X25519Field.create();
    X25519Field.sqr(y, u);
    X25519Field.mul(u, D, v);
    X25519Field.subOne(u); // u = y^2 - 1
    X25519Field.addOne(v); // v = d y^2 + 1
    int[] x = X25519Field.create();
    if (!X25519Field.sqrtRatioVar(u, v, x)) {
      return null;
    }
    X25519Field.normalize(x);
    boolean xIsZero = X25519Field.isZeroVar(x);
    if (xIsZero && sign == 1) {
      return null;
    }
    byte[] xBytes = new byte[32];
    X25519Field.encode(x, xBytes, 0);
    if ((xBytes[0] & 1) != sign) {
      X25519Field.negate(x, x);
      X25519Field.normalize(x);
    }
    X25519Field.normalize(y);
    return new Affine(x, y);
  }

  /** True if the 255-bit little-endian value is below p = 2^255 - 19. */
  private static boolean isCanonicalFieldElement(byte[] le) {
    if ((le[31] & 0xFF) != 0x7F) {
      return true;
    }
    for (int i = 30; i >= 1; i--) {
      if ((le[i] & 0xFF) != 0xFF) {
        return true;
      }
    }
    return (le[0] & 0xFF) < 0xED;
  }

  // ---------------------------------------------------------------- scalars and constants

  private static BigInteger leToInt(byte[] bytes, int off, int len) {
    byte[] be = new byte[len + 1];
    for (int i = 0; i < len; i++) {
      be[len - i] = bytes[off + i];
    }
    return new BigInteger(be);
  }

  private static long leLong(byte[] b, int off) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[off + i] & 0xFF);
    }
    return v;
  }

  private static BigInteger toBigInteger(long lo, long hi) {
    byte[] be = new byte[17];
    for (int i = 0; i < 8; i++) {
      be[16 - i] = (byte) (lo >>> (8 * i));
      be[8 - i] = (byte) (hi >>> (8 * i));
    }
    return new BigInteger(be);
  }

  private static BigInteger minusRatio(int num, int den) {
    return BigInteger.valueOf(-num).multiply(BigInteger.valueOf(den).modInverse(P)).mod(P);
  }

  private static int[] fieldConstant(BigInteger value) {
    byte[] be = value.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    int[] f = X25519Field.create();
    X25519Field.decode(le, 0, f);
    return f;
  }

  /** The base point's encoding: y = 4/5, x even. */
  private static byte[] baseEncoding() {
    BigInteger y = BigInteger.valueOf(4).multiply(BigInteger.valueOf(5).modInverse(P)).mod(P);
    byte[] be = y.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    return le;
  }
}
