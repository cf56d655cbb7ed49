package io.github.mxe2ee.crypto;

import io.github.mxe2ee.crypto.curve.EdwardsPoint;
import io.github.mxe2ee.crypto.curve.Scalar25519;
import java.security.DigestException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
 * probability about 2^-128; the batch then falls back to single verification ({@link
 * Ed25519PublicKey#verify}) of every item, so the per-item results equal {@link
 * Ed25519PublicKey#verify} except in one documented respect: a signature accepted by the batch but
 * not by single verification must carry a small-order (torsion) component, which only the holder of
 * the private key can put there; the cofactored equation is RFC 8032's own, and it cannot be used
 * to forge for a key one does not hold. Items are rejected up front, without entering the batch, if
 * {@code s >= L} or {@code R} is a non-canonical or small-order encoding.
 *
 * <p>The arithmetic is mxe2ee's own ({@code io.github.mxe2ee.crypto.curve}): points are {@link
 * EdwardsPoint}s, the addends of the sum are in {@link EdwardsPoint.Cached} form, and the scalars
 * are reduced and combined with {@link Scalar25519}. The multi-scalar multiplication is Pippenger's
 * bucket method with signed digits and all scalars cut to 128 bits ({@code s = s_lo + 2^128 s_hi},
 * using precomputed {@code 2^128 B} and {@code 2^128 A}), since the {@code z_i} of the {@code R_i}
 * are 128-bit already.
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
   * memory held (about 350 bytes per signature) and the cost of the fallback after a failure.
   */
  public static final int MAX_BATCH_SIZE = 4096;

  /** Bits of the random coefficients {@code z_i}, and of each half of a split scalar. */
  private static final int SCALAR_BITS = 128;

  /**
   * Widest Pippenger window: 2^11 buckets, the optimum only beyond about 20,000 points, so never
   * reached with {@link #MAX_BATCH_SIZE}; it also keeps digits within a {@code short}.
   */
  private static final int MAX_WINDOW_BITS = 12;

  /** Bytes of a coefficient {@code z_i}. */
  private static final int Z_BYTES = SCALAR_BITS / 8;

  /** {@code L - 1 = -1 (mod L)}, little-endian: multiplying by it negates a scalar. */
  private static final byte[] MINUS_ONE =
      hexConstant("ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");

  private static final byte[] ZERO = new byte[Scalar25519.SCALAR_BYTES];

  private static final Affine BASE = Affine.of(EdwardsPoint.base());
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
   * Checks the batch equation over items {@code [start, end)}: the up-front rejections of RFC 8032
   * section 5.1.7 step 1 ({@code s < L}, R decodes) plus the small-order R check, then {@code [8](
   * [sum z_i k_i]A + sum [z_i]R_i - [sum z_i s_i]B ) = 0}. Items rejected up front stay out of
   * {@code batchedOut}; the rest are added to it, in increasing order.
   *
   * @return whether the equation holds (true if no item was batched), or null if a key could not be
   *     decoded
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
    byte[] coefficients = new byte[Z_BYTES * n];
    random.nextBytes(coefficients);
    Map<Ed25519PublicKey, Integer> keyIndex = new HashMap<>();
    List<Ed25519PublicKey> distinctKeys = new ArrayList<>();
    List<byte[]> keyScalars = new ArrayList<>(); // sum of z_i k_i mod L, per distinct key
    List<Affine> points = new ArrayList<>(n + 8);
    List<long[]> scalars = new ArrayList<>(n + 8);
    byte[] sSum = ZERO; // sum of z_i s_i mod L
    byte[] digest = new byte[64];
    byte[] s = new byte[Scalar25519.SCALAR_BYTES];
    byte[] z = new byte[Scalar25519.SCALAR_BYTES]; // bytes 16..31 stay zero
    EdwardsPoint scratch = new EdwardsPoint();
    for (int i = start; i < end; i++) {
      byte[] sig = signatures.get(i).rawBytes();
      if (!Scalar25519.isCanonical(sig, 32)) {
        continue;
      }
      if (hasSmallOrderEncoding(sig, 0)) {
        continue;
      }
      Affine r = decompress(sig, 0, scratch);
      if (r == null) {
        continue;
      }
      Ed25519PublicKey key = keys.get(i);
      byte[] message = messages.get(i);
      sha512.update(sig, 0, 32);
      sha512.update(key.rawBytes());
      sha512.update(message);
      try {
        sha512.digest(digest, 0, 64);
      } catch (DigestException e) {
        throw new IllegalStateException("SHA-512 output buffer", e);
      }
      byte[] k = Scalar25519.reduce(digest);
      System.arraycopy(coefficients, Z_BYTES * (i - start), z, 0, Z_BYTES);
      long zLo = le64(z, 0);
      long zHi = le64(z, 8);
      if (zLo == 0 && zHi == 0) {
        zLo = 1;
        z[0] = 1;
      }
      System.arraycopy(sig, 32, s, 0, 32);
      sSum = Scalar25519.mulAdd(z, s, sSum);
      Integer ki = keyIndex.get(key);
      if (ki == null) {
        ki = distinctKeys.size();
        keyIndex.put(key, ki);
        distinctKeys.add(key);
        keyScalars.add(ZERO);
      }
      keyScalars.set(ki, Scalar25519.mulAdd(z, k, keyScalars.get(ki)));
      points.add(r);
      scalars.add(new long[] {zLo, zHi});
      batchedOut.add(i);
    }
    if (batchedOut.isEmpty()) {
      return Boolean.TRUE;
    }
    for (int j = 0; j < distinctKeys.size(); j++) {
      Affine a = decompress(distinctKeys.get(j).rawBytes(), 0, scratch);
      if (a == null) {
        return null;
      }
      addSplit(points, scalars, a, a.timesTwoPow(SCALAR_BITS), keyScalars.get(j));
    }
    addSplit(points, scalars, BASE, BASE_128, Scalar25519.mulAdd(sSum, MINUS_ONE, ZERO));
    Extended sum = multiScalarMultiply(points, scalars);
    return sum.timesEight().isIdentity();
  }

  /**
   * Adds the term {@code [scalar]P} as {@code [lo]P + [hi](2^128 P)}.
   *
   * @param scalar 32 bytes little-endian, below 2^256
   */
  private static void addSplit(
      List<Affine> points, List<long[]> scalars, Affine p, Affine p128, byte[] scalar) {
    points.add(p);
    scalars.add(new long[] {le64(scalar, 0), le64(scalar, 8)});
    points.add(p128);
    scalars.add(new long[] {le64(scalar, 16), le64(scalar, 24)});
  }

  /**
   * {@code sum [scalars[j]] points[j]} by Pippenger's bucket method with signed digits. The 128-bit
   * scalars (given as {low, high} 64-bit words) are recoded into {@link #windowBits} {@code = c}
   * -bit windows with digits in {@code [-2^(c-1), 2^(c-1)]} ({@link #signedDigits}); from the top
   * window down, the accumulator is doubled c times and gets {@code sum_m m·(bucket m)}, where
   * bucket {@code m} collects {@code sign(d)·P} for every point P whose digit d in this window has
   * magnitude m (a Cached point is subtracted as cheaply as it is added). That sum is formed with
   * two running sums from the top bucket down, two additions per bucket. Variable time.
   *
   * @return the sum, a new point
   */
  static Extended multiScalarMultiply(List<Affine> points, List<long[]> scalars) {
    int n = points.size();
    int c = windowBits(n);
    int windows = windows(c);
    short[][] digits = signedDigits(scalars, c);
    int half = 1 << (c - 1);
    EdwardsPoint[] buckets = new EdwardsPoint[half + 1];
    for (int m = 1; m <= half; m++) {
      buckets[m] = new EdwardsPoint();
    }
    // Per bucket: 0 while empty, else the sign of its first point. A bucket holds sign·(its sum),
    // so that it can start with set() instead of an addition to the neutral element.
    byte[] sign = new byte[half + 1];
    EdwardsPoint.Cached cached = new EdwardsPoint.Cached();
    EdwardsPoint running = new EdwardsPoint();
    EdwardsPoint partial = new EdwardsPoint();
    Extended acc = Extended.identity();
    for (int w = windows - 1; w >= 0; w--) {
      acc.point.doubleTimes(c);
      Arrays.fill(sign, (byte) 0);
      short[] dw = digits[w];
      for (int j = 0; j < n; j++) {
        int d = dw[j];
        if (d == 0) {
          continue;
        }
        int m = Math.abs(d);
        byte sd = (byte) Integer.signum(d);
        EdwardsPoint.Cached q = points.get(j).cached;
        if (sign[m] == 0) {
          buckets[m].set(q);
          sign[m] = sd;
        } else if (sign[m] == sd) {
          buckets[m].add(q);
        } else {
          buckets[m].sub(q);
        }
      }
      // running = sum of the buckets m' >= m (with their signs); partial = sum over m of running.
      running.setIdentity();
      partial.setIdentity();
      boolean any = false;
      for (int m = half; m >= 1; m--) {
        if (sign[m] != 0) {
          buckets[m].toCached(cached);
          if (sign[m] > 0) {
            running.add(cached);
          } else {
            running.sub(cached);
          }
          any = true;
        }
        if (any) {
          running.toCached(cached);
          partial.add(cached);
        }
      }
      partial.toCached(cached);
      acc.point.add(cached);
    }
    return acc;
  }

  /**
   * Number of c-bit windows of a recoded scalar: the signed recoding of a 128-bit number can carry
   * into bit 128, so the windows cover 129 bits.
   */
  private static int windows(int c) {
    return (SCALAR_BITS + 1 + c - 1) / c;
  }

  /**
   * Signed window digits: {@code digits[w][j]} with {@code sum_w digits[w][j]·2^(c·w) = scalar j}
   * and {@code |digits[w][j]| <= 2^(c-1)}. From the bottom, a window value v (plus the incoming
   * carry) of {@code 2^(c-1)} or more becomes {@code v - 2^c} and carries one into the next window;
   * the top window starts at or above bit {@code 129 - c}, so its value plus carry is at most
   * {@code 2^(c-1)} and is kept as it is.
   */
  static short[][] signedDigits(List<long[]> scalars, int c) {
    int windows = windows(c);
    int half = 1 << (c - 1);
    short[][] digits = new short[windows][scalars.size()];
    for (int j = 0; j < scalars.size(); j++) {
      long[] s = scalars.get(j);
      int carry = 0;
      for (int w = 0; w < windows; w++) {
        int bit = w * c;
        int v = (bit < SCALAR_BITS ? digit(s[0], s[1], bit, c) : 0) + carry;
        carry = (w < windows - 1 && v >= half) ? 1 : 0;
        digits[w][j] = (short) (v - (carry << c));
      }
    }
    return digits;
  }

  /**
   * The window width that minimises {@code ceil(129/c) * (n + 2^c)} point additions: one per point
   * and window, and two per bucket ({@code 2^(c-1)} of them) and window.
   */
  static int windowBits(int n) {
    int best = 1;
    long bestCost = Long.MAX_VALUE;
    for (int c = 1; c <= MAX_WINDOW_BITS; c++) {
      long cost = (long) windows(c) * (n + (1L << c));
      if (cost < bestCost) {
        bestCost = cost;
        best = c;
      }
    }
    return best;
  }

  /** Bits {@code [bit, bit + width)} of the 128-bit number {@code hi·2^64 + lo}; width <= 32. */
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
   * An input point of the multi-scalar multiplication, held in {@link EdwardsPoint.Cached} form
   * (four field elements, the addend of an 8-multiplication addition). Points decoded from their
   * encodings (the {@code R_i} and the keys) are affine ({@code Z = 1}); the derived {@code 2^128
   * P} keep a projective Z, which the cached addition accepts just as well. Immutable once built.
   */
  static final class Affine {
    final EdwardsPoint.Cached cached;

    private Affine(EdwardsPoint.Cached cached) {
      this.cached = cached;
    }

    /** The cached form of {@code p}. */
    static Affine of(EdwardsPoint p) {
      EdwardsPoint.Cached c = new EdwardsPoint.Cached();
      p.toCached(c);
      return new Affine(c);
    }

    /** {@code 2^k * this}. */
    Affine timesTwoPow(int k) {
      EdwardsPoint e = new EdwardsPoint();
      e.set(cached);
      e.doubleTimes(k);
      return of(e);
    }

    /** True if {@code [8]P} is the neutral element. */
    boolean hasSmallOrder() {
      Extended e = Extended.identity();
      e.set(this);
      return e.timesEight().isIdentity();
    }
  }

  /**
   * A sum of points: an {@link EdwardsPoint} with the operations the tests use by name. Mutable.
   */
  static final class Extended {
    final EdwardsPoint point = new EdwardsPoint();
    private final EdwardsPoint.Cached scratch = new EdwardsPoint.Cached();

    /** A new neutral element. */
    static Extended identity() {
      return new Extended();
    }

    void set(Affine p) {
      point.set(p.cached);
    }

    /** this += q. */
    void addInPlace(Affine q) {
      point.add(q.cached);
    }

    /** this += q; q may be this. */
    void addInPlace(Extended q) {
      q.point.toCached(scratch);
      point.add(scratch);
    }

    /** this = 2 * this. */
    void doubleInPlace() {
      point.doublePoint();
    }

    /** {@code [8]this}, a new point (the cofactor of RFC 8032's cofactored equation). */
    Extended timesEight() {
      Extended r = new Extended();
      r.point.set(point);
      r.point.doubleTimes(3);
      return r;
    }

    boolean isIdentity() {
      return point.isNeutral();
    }

    Affine toAffine() {
      return Affine.of(point);
    }
  }

  /**
   * Decodes a point (RFC 8032 section 5.1.3), rejecting non-canonical y and the non-canonical
   * encoding of x = 0 with the sign bit set.
   *
   * @return the point, or null if the encoding is invalid
   */
  static Affine decompress(byte[] encoded, int off) {
    return decompress(encoded, off, new EdwardsPoint());
  }

  /** {@link #decompress(byte[], int)} with caller-provided scratch space. */
  private static Affine decompress(byte[] encoded, int off, EdwardsPoint scratch) {
    return EdwardsPoint.decode(encoded, off, scratch) ? Affine.of(scratch) : null;
  }

  // ---------------------------------------------------------------- scalars

  private static long le64(byte[] b, int off) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[off + i] & 0xFF);
    }
    return v;
  }
}
