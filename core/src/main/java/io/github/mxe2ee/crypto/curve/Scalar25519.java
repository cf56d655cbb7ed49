package io.github.mxe2ee.crypto.curve;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Arithmetic on Ed25519 scalars, the integers modulo the prime group order {@code L = 2^252 +
 * 27742317777372353535851937790883648493} (RFC 8032 section 5.1), and the digit recodings that the
 * point layer consumes.
 *
 * <p><b>Where each method is used.</b>
 *
 * <ul>
 *   <li>{@link #reduce} turns a SHA-512 output into a scalar: the nonce {@code r} and the challenge
 *       {@code k} of signing (RFC 8032 section 5.1.6, steps 2 and 4) and {@code k} of verification
 *       (section 5.1.7, step 2).
 *   <li>{@link #mulAdd} computes {@code S = (r + k·s) mod L} (section 5.1.6, step 5).
 *   <li>{@link #isCanonical} is the {@code 0 <= S < L} check of verification (section 5.1.7, step
 *       1), which rejects malleable signatures.
 *   <li>{@link #toSignedRadix16} prepares a secret scalar for fixed-base multiplication {@code
 *       [s]B}; {@link #nonAdjacentForm} prepares public scalars for verification.
 * </ul>
 *
 * <p><b>Encoding.</b> Every scalar is a little-endian byte array, 32 bytes unless a method says
 * otherwise; the input of {@link #reduce} is 64 bytes. Outputs of {@link #reduce} and {@link
 * #mulAdd} are fully reduced (below {@code L}), hence canonical.
 *
 * <p><b>Representation and method.</b> Internally a number is a {@code long[]} of 28-bit limbs:
 * {@code x = Σ x[i]·2^(28·i)}. The width is chosen because {@code 252 = 9·28}, so limb 9 starts
 * exactly at {@code 2^252}, and {@code 2^252 ≡ -δ (mod L)} with {@code δ = L - 2^252 < 2^125},
 * which is five limbs. Reduction therefore replaces the part above {@code 2^252}, {@code H}, by
 * {@code -H·δ} ("folding"); each fold shrinks the number by about 127 bits, so four folds take a
 * 512-bit number into {@code (-L, L)}, and one masked addition of {@code L} finishes. Limbs are
 * signed between folds; a 28×28-bit product is below 2^56 and a column sums at most ten of them, so
 * no {@code long} overflows. The per-stage bounds are stated at each fold below.
 *
 * <p><b>Constant time.</b> {@link #reduce}, {@link #mulAdd} and {@link #toSignedRadix16} neither
 * branch on nor index memory by the scalar's value: loop bounds and array indices depend only on
 * positions, carries use arithmetic shifts and the final correction uses a mask. {@link
 * #isCanonical} and {@link #nonAdjacentForm} are variable time and must only see public data
 * (signatures, hashes of public data during verification). Temporary limb arrays are zeroed before
 * returning.
 *
 * <p><b>Errors.</b> Arrays of the wrong length, bad offsets and out-of-range parameters throw
 * {@link IllegalArgumentException} whose message names the expected and the actual length or value
 * (never the scalar's bytes); {@code null} arrays throw {@link NullPointerException}. Inputs are
 * never modified; every result is a new array.
 *
 * <p>Stateless and thread-safe. Internal to mxe2ee's curve code.
 */
public final class Scalar25519 {
  /** Length of an encoded scalar (RFC 8032 section 5.1.2: b / 8 with b = 256). */
  public static final int SCALAR_BYTES = 32;

  /** Length of the input of {@link #reduce}: one SHA-512 output (RFC 8032 section 5.1). */
  public static final int WIDE_BYTES = 64;

  /** Number of digits produced by {@link #toSignedRadix16}: 256 bits / 4 bits per digit. */
  public static final int RADIX16_DIGITS = 64;

  /**
   * Number of digits produced by {@link #nonAdjacentForm}: a width-w NAF of a number below 2^256
   * can be one digit longer than its binary form.
   */
  public static final int NAF_DIGITS = 257;

  /** Smallest NAF width accepted: width 1 would allow no nonzero digit at all. */
  public static final int MIN_NAF_WIDTH = 2;

  /** Largest NAF width accepted: digits must fit a signed byte ({@code |d| < 2^7}). */
  public static final int MAX_NAF_WIDTH = 8;

  /** Bits per internal limb. */
  private static final int LIMB_BITS = 28;

  private static final long LIMB_MASK = (1L << LIMB_BITS) - 1;

  /** Limb index of 2^252 (252 / 28). */
  private static final int TOP = 9;

  /** Limbs of a 32-byte number: 256 bits in ten 28-bit limbs, the last holding 4 bits. */
  private static final int NARROW_LIMBS = 10;

  /** Limbs of a 64-byte number: 512 bits in 19 limbs, plus one spare so loads work in pairs. */
  private static final int WIDE_LIMBS = 20;

  /** δ = L - 2^252 = 27742317777372353535851937790883648493 in 28-bit limbs, least first. */
  private static final long D0 = 0xcf5d3edL;

  private static final long D1 = 0x12631a5L;
  private static final long D2 = 0x79cd658L;
  private static final long D3 = 0xf9dea2fL;
  private static final long D4 = 0x14deL;

  /** Reads a little-endian {@code long} from a byte array at any offset. */
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** Writes a little-endian {@code int} into a byte array at any offset. */
  private static final VarHandle INT_LE =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  /** L in little-endian bytes, for {@link #isCanonical}. */
  private static final byte[] L_BYTES = {
    (byte) 0xed,
    (byte) 0xd3,
    (byte) 0xf5,
    0x5c,
    0x1a,
    0x63,
    0x12,
    0x58,
    (byte) 0xd6,
    (byte) 0x9c,
    (byte) 0xf7,
    (byte) 0xa2,
    (byte) 0xde,
    (byte) 0xf9,
    (byte) 0xde,
    0x14,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x10
  };

  private Scalar25519() {}

  /**
   * Reduces a 64-byte little-endian integer (a SHA-512 output, RFC 8032 sections 5.1.6 and 5.1.7)
   * modulo L. Constant time.
   *
   * @param in64 64 bytes, any value below 2^512
   * @return 32 bytes, the canonical encoding of {@code in64 mod L}
   * @throws IllegalArgumentException if {@code in64} is not 64 bytes long
   */
  public static byte[] reduce(byte[] in64) {
    checkLength("input of reduce", in64, WIDE_BYTES);
    long[] r = new long[WIDE_LIMBS];
    load(in64, WIDE_BYTES, r);
    byte[] out = reduceWide(r);
    Arrays.fill(r, 0);
    return out;
  }

  /**
   * Computes {@code (a·b + c) mod L}, the {@code S = (r + k·s) mod L} of RFC 8032 section 5.1.6
   * step 5. Constant time. The inputs need not be reduced.
   *
   * @param a 32 bytes, any value below 2^256
   * @param b 32 bytes, any value below 2^256
   * @param c 32 bytes, any value below 2^256
   * @return 32 bytes, the canonical encoding of the result
   * @throws IllegalArgumentException if an input is not 32 bytes long
   */
  public static byte[] mulAdd(byte[] a, byte[] b, byte[] c) {
    checkLength("first factor of mulAdd", a, SCALAR_BYTES);
    checkLength("second factor of mulAdd", b, SCALAR_BYTES);
    checkLength("addend of mulAdd", c, SCALAR_BYTES);
    long[] x = new long[NARROW_LIMBS];
    long[] y = new long[NARROW_LIMBS];
    long[] r = new long[WIDE_LIMBS];
    load(a, SCALAR_BYTES, x);
    load(b, SCALAR_BYTES, y);
    load(c, SCALAR_BYTES, r);
    // Schoolbook product into r[0..18]; a column holds at most ten products below 2^56 plus one
    // limb of c, so it stays below 2^60.
    for (int i = 0; i < NARROW_LIMBS; i++) {
      long xi = x[i];
      for (int j = 0; j < NARROW_LIMBS; j++) {
        r[i + j] += xi * y[j];
      }
    }
    // a·b + c <= (2^256 - 1)^2 + 2^256 - 1 < 2^512, so after carrying, limbs 0..17 hold 28 bits and
    // limb 18 the remaining 8; r[19] stays zero. This is the shape reduceWide expects.
    carry(r, 0, 18);
    byte[] out = reduceWide(r);
    Arrays.fill(x, 0);
    Arrays.fill(y, 0);
    Arrays.fill(r, 0);
    return out;
  }

  /**
   * Clamps a 32-byte secret scalar in place, as X25519 (RFC 7748 section 5) and Ed25519 key
   * expansion (RFC 8032 section 5.1.5) both do: clears the three low bits and bit 255, sets bit
   * 254.
   */
  static void clamp(byte[] k) {
    k[0] &= (byte) 248;
    k[31] &= 127;
    k[31] |= 64;
  }

  /**
   * Whether the 32 bytes at {@code off} encode an integer below L (RFC 8032 section 5.1.7 step 1:
   * the S half of a signature must be canonical). Variable time: use on public data only.
   *
   * @param s the array holding the scalar
   * @param off offset of the scalar's first (least significant) byte
   * @return true if the value is in {@code [0, L)}
   * @throws IllegalArgumentException if fewer than 32 bytes are available at {@code off}
   */
  public static boolean isCanonical(byte[] s, int off) {
    if (off < 0 || off > s.length - SCALAR_BYTES) {
      throw new IllegalArgumentException(
          "scalar needs "
              + SCALAR_BYTES
              + " bytes at offset "
              + off
              + " but the array has "
              + s.length
              + " bytes");
    }
    for (int i = SCALAR_BYTES - 1; i >= 0; i--) {
      int x = s[off + i] & 0xff;
      int l = L_BYTES[i] & 0xff;
      if (x != l) {
        return x < l;
      }
    }
    return false; // equal to L
  }

  /**
   * Recodes a scalar below 2^255 into 64 signed radix-16 digits {@code e[i]} with {@code s = Σ
   * e[i]·16^i}, {@code -8 <= e[i] <= 7} for {@code i < 63} and {@code 0 <= e[63] <= 8}. Such digits
   * let fixed-base multiplication look up {@code |e[i]|·16^i·B} in a table of 8 multiples and
   * negate conditionally. Constant time in the scalar's value.
   *
   * @param s 32 bytes with the top bit (bit 255) clear: a clamped Ed25519 secret scalar (RFC 8032
   *     section 5.1.5) or a reduced scalar
   * @return 64 digits, least significant first
   * @throws IllegalArgumentException if {@code s} is not 32 bytes long or its top bit is set (a
   *     contract violation, not a secret-dependent condition: valid inputs never take this branch)
   */
  public static byte[] toSignedRadix16(byte[] s) {
    checkLength("scalar of toSignedRadix16", s, SCALAR_BYTES);
    if ((s[SCALAR_BYTES - 1] & 0x80) != 0) {
      throw new IllegalArgumentException(
          "scalar of toSignedRadix16 must be below 2^255 (top bit clear)");
    }
    byte[] e = new byte[RADIX16_DIGITS];
    // Start from the plain nibbles (0..15). Then, from the bottom, a digit of 8 or more (after the
    // incoming carry, so at most 16) becomes digit - 16 and carries one into the next digit:
    // (v + 8) >> 4 is that carry, computed without a branch.
    int carry = 0;
    for (int i = 0; i < SCALAR_BYTES; i++) {
      int lo = (s[i] & 0x0f) + carry;
      carry = (lo + 8) >> 4;
      e[2 * i] = (byte) (lo - (carry << 4));
      int hi = ((s[i] >> 4) & 0x0f) + carry;
      if (i == SCALAR_BYTES - 1) {
        // The top nibble is at most 7 (bit 255 clear), so with the carry at most 8: keep it whole.
        e[2 * i + 1] = (byte) hi;
      } else {
        carry = (hi + 8) >> 4;
        e[2 * i + 1] = (byte) (hi - (carry << 4));
      }
    }
    return e;
  }

  /**
   * Width-w non-adjacent form of a 256-bit scalar: digits {@code d[i]} with {@code s = Σ d[i]·2^i},
   * each zero or odd with {@code |d[i]| < 2^(w-1)}, and at most one nonzero digit in any {@code w}
   * consecutive positions. Variable time: for public scalars only (signature verification, RFC 8032
   * section 5.1.7 step 3).
   *
   * @param s 32 bytes, any value below 2^256
   * @param width the window width w, from {@value #MIN_NAF_WIDTH} to {@value #MAX_NAF_WIDTH}
   * @return {@value #NAF_DIGITS} digits, least significant first; digit 256 is nonzero only when
   *     the NAF needs a digit above the scalar's top bit
   * @throws IllegalArgumentException if {@code s} is not 32 bytes long or {@code width} is out of
   *     range
   */
  public static byte[] nonAdjacentForm(byte[] s, int width) {
    checkLength("scalar of nonAdjacentForm", s, SCALAR_BYTES);
    if (width < MIN_NAF_WIDTH || width > MAX_NAF_WIDTH) {
      throw new IllegalArgumentException(
          "NAF width must be from " + MIN_NAF_WIDTH + " to " + MAX_NAF_WIDTH + " but was " + width);
    }
    // The scalar as five 64-bit words (the fifth absorbs the carries of negative digits).
    long[] k = new long[5];
    for (int i = 0; i < SCALAR_BYTES; i++) {
      k[i >>> 3] |= (s[i] & 0xffL) << ((i & 7) << 3);
    }
    byte[] naf = new byte[NAF_DIGITS];
    int full = 1 << width;
    int half = full >>> 1;
    int i = 0;
    while (i < NAF_DIGITS) {
      if (((k[i >>> 6] >>> (i & 63)) & 1) == 0) {
        i++;
        continue;
      }
      // Odd at position i: take the w-bit window v (odd) and use the digit d ≡ v (mod 2^w) of
      // smallest magnitude. Subtracting d·2^i clears the window; if d = v - 2^w, that is
      // clearing it and adding 2^(i+w). Either way bits i+1 .. i+w-1 become zero, so the next w-1
      // digits are zero and the scan can skip them.
      int v = window(k, i, width);
      clearWindow(k, i, width);
      int d = v;
      if (v >= half) {
        d = v - full;
        addPowerOfTwo(k, i + width);
      }
      naf[i] = (byte) d;
      i += width;
    }
    return naf;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Reduces r (limbs 0..17 in [0, 2^28), limb 18 below 2^8, limb 19 zero; value below 2^512) mod L
   * and encodes the result.
   */
  private static byte[] reduceWide(long[] r) {
    // Fold 1: X = lo + H·2^252 with lo < 2^252 (limbs 0..8) and H < 2^260 (limbs 9..18).
    // X ≡ lo - H·δ, of magnitude below 2^386 < 2^392, so after carrying limbs 0..13 the carry left
    // in r[14] is 0 or -1 (the sign).
    fold(r, 10);
    carry(r, 0, 14);
    // Fold 2: H (limbs 9..14, |H| < 2^134) times δ is below 2^259 in magnitude; the result fits
    // limbs 0..9 with a sign carry (0 or -1) in r[10].
    fold(r, 6);
    carry(r, 0, 10);
    // Fold 3: H = r[9] + r[10]·2^28, |H| <= 2^8. The result is within 2^133 of [0, 2^252), so after
    // carrying limbs 0..8 the top limb r[9] is -1, 0 or 1.
    fold(r, 2);
    carry(r, 0, TOP);
    // Fold 4: H = r[9] in {-1, 0, 1}; the result lo - H·δ lies in (-δ, 2^252 + δ) = (-δ, L), and
    // after carrying, r[9] is -1 exactly when it is negative.
    fold(r, 1);
    carry(r, 0, TOP);
    // Add L when negative (mask of ones from the sign of r[9]); the result is in [0, L).
    long neg = r[TOP] >> 63;
    r[0] += D0 & neg;
    r[1] += D1 & neg;
    r[2] += D2 & neg;
    r[3] += D3 & neg;
    r[4] += D4 & neg;
    r[TOP] += 1 & neg;
    carry(r, 0, TOP);
    byte[] out = new byte[SCALAR_BYTES];
    store(r, out);
    return out;
  }

  /**
   * Replaces the {@code n} limbs from index 9 up, H, by {@code -H·δ} added at index 0, which
   * preserves the value mod L because {@code 2^252 ≡ -δ}. Source limb {@code 9 + i} feeds limbs
   * {@code i .. i + 4}, all below {@code 9 + i}; taking the sources in increasing order and zeroing
   * each as it is read, the only source limbs written to have already been consumed.
   */
  private static void fold(long[] r, int n) {
    for (int i = 0; i < n; i++) {
      long h = r[TOP + i];
      r[TOP + i] = 0;
      r[i] -= h * D0;
      r[i + 1] -= h * D1;
      r[i + 2] -= h * D2;
      r[i + 3] -= h * D3;
      r[i + 4] -= h * D4;
    }
  }

  /**
   * Signed carry from limb {@code from} to limb {@code to - 1} into limb {@code to}: afterwards
   * those limbs are in [0, 2^28) and limb {@code to} has absorbed the (possibly negative) carry.
   * The arithmetic shift is a floor division, so no branch is needed for negative limbs.
   */
  private static void carry(long[] r, int from, int to) {
    for (int i = from; i < to; i++) {
      long c = r[i] >> LIMB_BITS;
      r[i] -= c << LIMB_BITS;
      r[i + 1] += c;
    }
  }

  /**
   * Loads {@code len} (32 or 64) little-endian bytes into 28-bit limbs. Seven bytes are exactly two
   * limbs, so each group of seven bytes, read as one little-endian word, gives an even and an odd
   * limb; the bytes after the last whole group (4 of 32, 1 of 64) make the last one or two limbs.
   * Indices depend on the length only.
   */
  private static void load(byte[] src, int len, long[] r) {
    int groups = len / 7;
    for (int m = 0; m < groups; m++) {
      // A word read at 7m covers the group and one byte beyond, which the shifts discard; the
      // last group of a 64-byte input ends at byte 62, so the word read there (56..63) still fits.
      long v = (long) LONG_LE.get(src, 7 * m);
      r[2 * m] = v & LIMB_MASK;
      r[2 * m + 1] = (v >>> LIMB_BITS) & LIMB_MASK;
    }
    long tail = 0;
    for (int k = 7 * groups; k < len; k++) {
      tail |= (src[k] & 0xffL) << (8 * (k - 7 * groups));
    }
    r[2 * groups] = tail & LIMB_MASK;
    r[2 * groups + 1] = tail >>> LIMB_BITS;
  }

  /**
   * Encodes limbs 0..9 (limbs 0..8 in [0, 2^28), limb 9 in {0, 1}) as 32 little-endian bytes: four
   * 7-byte groups of two limbs each, written as 8-byte words in increasing order (the eighth byte
   * of each word is zero and is overwritten by the next group), then limbs 8 and 9 as the last 4
   * bytes.
   */
  private static void store(long[] r, byte[] out) {
    for (int m = 0; m < 4; m++) {
      LONG_LE.set(out, 7 * m, r[2 * m] | (r[2 * m + 1] << LIMB_BITS));
    }
    INT_LE.set(out, 28, (int) (r[8] | (r[TOP] << LIMB_BITS)));
  }

  /** The {@code width} bits of k starting at bit {@code pos}. */
  private static int window(long[] k, int pos, int width) {
    int word = pos >>> 6;
    int shift = pos & 63;
    long bits = k[word] >>> shift;
    if (shift + width > 64 && word + 1 < k.length) {
      bits |= k[word + 1] << (64 - shift);
    }
    return (int) (bits & ((1L << width) - 1));
  }

  /** Clears the {@code width} bits of k starting at bit {@code pos}. */
  private static void clearWindow(long[] k, int pos, int width) {
    for (int b = pos; b < pos + width && b < 64 * k.length; b++) {
      k[b >>> 6] &= ~(1L << (b & 63));
    }
  }

  /** Adds 2^pos to k, propagating the carry through the words. */
  private static void addPowerOfTwo(long[] k, int pos) {
    int word = pos >>> 6;
    long add = 1L << (pos & 63);
    while (word < k.length) {
      long sum = k[word] + add;
      boolean overflow = Long.compareUnsigned(sum, k[word]) < 0;
      k[word] = sum;
      if (!overflow) {
        return;
      }
      add = 1;
      word++;
    }
    throw new IllegalStateException("NAF carry past 320 bits"); // impossible for inputs < 2^256
  }

  private static void checkLength(String what, byte[] b, int expected) {
    if (b.length != expected) {
      throw new IllegalArgumentException(
          what + " must be " + expected + " bytes but was " + b.length + " bytes");
    }
  }
}
