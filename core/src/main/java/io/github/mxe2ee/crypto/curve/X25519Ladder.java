package io.github.mxe2ee.crypto.curve;

/**
 * The X25519 function of RFC 7748 section 5 on {@link Field25519}: a constant-time Montgomery
 * ladder over the 255 bits of the clamped scalar, with the projective formulas of the RFC and one
 * inversion at the end.
 *
 * <p>Stateless and thread-safe; inputs are not modified. Internal to mxe2ee's curve code: the
 * public API is {@code io.github.mxe2ee.crypto.Curve25519SecretKey}.
 */
public final class X25519Ladder {
  /** (A - 2) / 4 for Curve25519, the ladder's constant (RFC 7748 section 5). */
  private static final int A24 = 121665;

  private X25519Ladder() {}

  /**
   * Writes {@code X25519(k, u)} (32 bytes) to {@code out}. The scalar is clamped as the RFC says;
   * the top bit of {@code u} is ignored. Returns false if the result is all zeros (a low-order
   * {@code u}), in which case {@code out} holds the zeros.
   */
  public static boolean scalarMult(byte[] k, byte[] u, byte[] out) {
    byte[] e = k.clone();
    Scalar25519.clamp(e);
    long[] x1 = Field25519.create();
    Field25519.fromBytes(u, 0, x1);
    long[] x2 = Field25519.create();
    long[] z2 = Field25519.create();
    long[] x3 = Field25519.create();
    long[] z3 = Field25519.create();
    long[] a = Field25519.create();
    long[] aa = Field25519.create();
    long[] b = Field25519.create();
    long[] bb = Field25519.create();
    long[] c = Field25519.create();
    long[] d = Field25519.create();
    long[] ee = Field25519.create();
    Field25519.one(x2);
    Field25519.copy(x1, x3);
    Field25519.one(z3);
    int swap = 0;
    for (int t = 254; t >= 0; t--) {
      int bit = (e[t >>> 3] >>> (t & 7)) & 1;
      swap ^= bit;
      Field25519.cswap(x2, x3, swap);
      Field25519.cswap(z2, z3, swap);
      swap = bit;

      Field25519.add(x2, z2, a);
      Field25519.subLoose(x2, z2, b);
      Field25519.add(x3, z3, c);
      Field25519.subLoose(x3, z3, d);
      Field25519.mul(d, a, d); // DA
      Field25519.mul(c, b, c); // CB
      Field25519.square(a, aa);
      Field25519.square(b, bb);
      Field25519.add(d, c, x3);
      Field25519.square(x3, x3); // (DA + CB)^2
      Field25519.subLoose(d, c, z3);
      Field25519.square(z3, z3);
      Field25519.mul(x1, z3, z3); // x1 (DA - CB)^2
      Field25519.mul(aa, bb, x2); // AA BB
      Field25519.subLoose(aa, bb, ee); // E
      Field25519.mulSmall(ee, A24, z2);
      Field25519.add(aa, z2, z2);
      Field25519.mul(ee, z2, z2); // E (AA + a24 E)
    }
    Field25519.cswap(x2, x3, swap);
    Field25519.cswap(z2, z3, swap);
    FieldInverse.invertBlinded(z2, z2);
    Field25519.mul(x2, z2, x2);
    Field25519.toBytes(x2, out, 0);
    java.util.Arrays.fill(e, (byte) 0);
    int acc = 0;
    for (int i = 0; i < 32; i++) {
      acc |= out[i];
    }
    return acc != 0;
  }
}
