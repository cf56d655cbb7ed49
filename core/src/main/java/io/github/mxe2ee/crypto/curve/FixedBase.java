package io.github.mxe2ee.crypto.curve;

/**
 * Constant-time multiplication of the Ed25519 base point B by a secret scalar, for key generation
 * (Ed25519 and, through the birational map, X25519) and for the nonce point R of a signature.
 *
 * <p>Method: the scalar is recoded into 64 signed radix-16 digits {@code e_i} in [-8, 8] ({@link
 * Scalar25519#toSignedRadix16}), so {@code sB = Σ e_i 16^i B}. A table holds, for each {@code j <
 * 32}, the multiples {@code 1..8 · 256^j B} in affine precomputed form (256 entries, ~30 KB, built
 * once at class initialisation). The odd digits are summed first, the sum is multiplied by 16 with
 * four doublings, and the even digits are added: 64 mixed additions and 4 doublings in all. Each
 * table look-up reads all eight entries of its row and keeps the wanted one with masks, and the
 * sign is applied with a masked conditional negation, so neither time nor memory access depends on
 * the scalar.
 *
 * <p>Thread-safe: the table is immutable after initialisation and each call uses its own buffers.
 */
public final class FixedBase {
  private static final int ROWS = 32;
  private static final int ENTRIES = 8;
  private static final int ENTRY_LONGS = 3 * Field25519.LIMBS;

  /**
   * Row {@code j} holds the entries {@code 1..8 · 256^j B} one after the other, each as its {@code
   * y + x}, {@code y - x} and {@code 2d·x·y} limbs: flat, so that a look-up streams through 120
   * consecutive longs.
   */
  private static final long[][] TABLE = buildTable();

  private FixedBase() {}

  /**
   * Sets {@code out} to {@code s·B}.
   *
   * @param scalar 32 bytes little-endian, below 2^255 (a clamped secret or a reduced scalar)
   */
  public static void multiply(byte[] scalar, EdwardsPoint out) {
    byte[] digits = Scalar25519.toSignedRadix16(scalar);
    EdwardsPoint.Precomputed entry = new EdwardsPoint.Precomputed();
    long[] scratch = Field25519.create();
    out.setIdentity();
    for (int i = 1; i < 64; i += 2) {
      select(i >>> 1, digits[i], entry, scratch);
      out.add(entry);
    }
    out.doubleTimes(4);
    for (int i = 0; i < 64; i += 2) {
      select(i >>> 1, digits[i], entry, scratch);
      out.add(entry);
    }
    java.util.Arrays.fill(digits, (byte) 0);
  }

  /**
   * Sets {@code out} to {@code digit · 256^row · B}. Every entry of the row is read and masked in;
   * the neutral element (digit 0) and the sign are applied with masks as well.
   */
  private static void select(int row, byte digit, EdwardsPoint.Precomputed out, long[] scratch) {
    int d = digit;
    int negative = d >>> 31;
    int magnitude = d - ((-negative & d) << 1);
    long[] entries = TABLE[row];
    long p0 = 0;
    long p1 = 0;
    long p2 = 0;
    long p3 = 0;
    long p4 = 0;
    long m0 = 0;
    long m1 = 0;
    long m2 = 0;
    long m3 = 0;
    long m4 = 0;
    long t0 = 0;
    long t1 = 0;
    long t2 = 0;
    long t3 = 0;
    long t4 = 0;
    for (int j = 0, o = 0; j < ENTRIES; j++, o += ENTRY_LONGS) {
      long mask = -(long) (((magnitude ^ (j + 1)) - 1) >>> 31);
      p0 |= entries[o] & mask;
      p1 |= entries[o + 1] & mask;
      p2 |= entries[o + 2] & mask;
      p3 |= entries[o + 3] & mask;
      p4 |= entries[o + 4] & mask;
      m0 |= entries[o + 5] & mask;
      m1 |= entries[o + 6] & mask;
      m2 |= entries[o + 7] & mask;
      m3 |= entries[o + 8] & mask;
      m4 |= entries[o + 9] & mask;
      t0 |= entries[o + 10] & mask;
      t1 |= entries[o + 11] & mask;
      t2 |= entries[o + 12] & mask;
      t3 |= entries[o + 13] & mask;
      t4 |= entries[o + 14] & mask;
    }
    // Digit 0 selected nothing: the neutral element is (1, 1, 0).
    long zero = -(long) ((magnitude - 1) >>> 31);
    p0 |= zero & 1;
    m0 |= zero & 1;
    // A negative digit: swap y + x with y - x and negate 2d·x·y.
    long neg = -(long) negative;
    long swap = (p0 ^ m0) & neg;
    out.yPlusX[0] = p0 ^ swap;
    out.yMinusX[0] = m0 ^ swap;
    swap = (p1 ^ m1) & neg;
    out.yPlusX[1] = p1 ^ swap;
    out.yMinusX[1] = m1 ^ swap;
    swap = (p2 ^ m2) & neg;
    out.yPlusX[2] = p2 ^ swap;
    out.yMinusX[2] = m2 ^ swap;
    swap = (p3 ^ m3) & neg;
    out.yPlusX[3] = p3 ^ swap;
    out.yMinusX[3] = m3 ^ swap;
    swap = (p4 ^ m4) & neg;
    out.yPlusX[4] = p4 ^ swap;
    out.yMinusX[4] = m4 ^ swap;
    long[] t = out.xy2d;
    t[0] = t0;
    t[1] = t1;
    t[2] = t2;
    t[3] = t3;
    t[4] = t4;
    Field25519.negate(t, scratch);
    Field25519.cmov(scratch, t, negative);
  }

  private static long[][] buildTable() {
    long[][] table = new long[ROWS][ENTRIES * ENTRY_LONGS];
    EdwardsPoint rowBase = EdwardsPoint.base();
    EdwardsPoint.Cached rowBaseCached = new EdwardsPoint.Cached();
    EdwardsPoint multiple = new EdwardsPoint();
    EdwardsPoint.Precomputed entry = new EdwardsPoint.Precomputed();
    for (int row = 0; row < ROWS; row++) {
      rowBase.toCached(rowBaseCached);
      multiple.set(rowBase);
      for (int j = 0; j < ENTRIES; j++) {
        multiple.toPrecomputed(entry);
        int o = j * ENTRY_LONGS;
        System.arraycopy(entry.yPlusX, 0, table[row], o, Field25519.LIMBS);
        System.arraycopy(entry.yMinusX, 0, table[row], o + 5, Field25519.LIMBS);
        System.arraycopy(entry.xy2d, 0, table[row], o + 10, Field25519.LIMBS);
        multiple.add(rowBaseCached);
      }
      rowBase.doubleTimes(8);
    }
    return table;
  }
}
