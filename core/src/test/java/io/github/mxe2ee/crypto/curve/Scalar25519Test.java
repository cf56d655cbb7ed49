package io.github.mxe2ee.crypto.curve;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.Ed25519SecretKey;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Scalar25519} against {@link BigInteger} as the reference, on edge values and thousands of
 * random ones, plus complete Ed25519 signatures (RFC 8032 section 7.1 and Bouncy Castle) whose S
 * half is recomputed with {@link Scalar25519#reduce} and {@link Scalar25519#mulAdd}.
 */
class Scalar25519Test {
  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
  private static final BigInteger TWO_256 = BigInteger.TWO.pow(256);
  private static final BigInteger TWO_512 = BigInteger.TWO.pow(512);
  private static final int RANDOM_CASES = 5000;

  /** Fixed seed so a failure reproduces; the cases are still spread over the whole range. */
  private final Random random = new Random(0x5ca1a125519L);

  // --- reference conversions ---------------------------------------------------------------------

  static byte[] le(BigInteger v, int len) {
    if (v.signum() < 0 || v.bitLength() > 8 * len) {
      throw new IllegalArgumentException("value does not fit " + len + " bytes");
    }
    byte[] be = v.toByteArray();
    byte[] out = new byte[len];
    for (int i = 0; i < len && i < be.length; i++) {
      out[i] = be[be.length - 1 - i];
    }
    return out;
  }

  static BigInteger fromLe(byte[] b) {
    byte[] be = new byte[b.length + 1];
    for (int i = 0; i < b.length; i++) {
      be[b.length - i] = b[i];
    }
    return new BigInteger(be);
  }

  /** Edge values below 2^256, plus values next to multiples of L and to powers of two. */
  private List<BigInteger> edges256() {
    List<BigInteger> v = new ArrayList<>();
    BigInteger[] base = {
      BigInteger.ZERO,
      BigInteger.ONE,
      L.subtract(BigInteger.ONE),
      L,
      L.add(BigInteger.ONE),
      BigInteger.TWO.pow(252),
      BigInteger.TWO.pow(252).subtract(BigInteger.ONE),
      BigInteger.TWO.pow(253).subtract(BigInteger.ONE),
      BigInteger.TWO.pow(255).subtract(BigInteger.ONE),
      BigInteger.TWO.pow(255),
      TWO_256.subtract(BigInteger.ONE),
      L.shiftLeft(1),
      L.shiftLeft(1).subtract(BigInteger.ONE),
      L.multiply(BigInteger.valueOf(15)),
      L.multiply(BigInteger.valueOf(15)).subtract(BigInteger.ONE),
    };
    for (BigInteger b : base) {
      v.add(b);
    }
    return v;
  }

  private List<BigInteger> edges512() {
    List<BigInteger> v = new ArrayList<>(edges256());
    v.add(TWO_512.subtract(BigInteger.ONE));
    v.add(TWO_512.subtract(TWO_256));
    v.add(L.multiply(L));
    v.add(L.multiply(L).subtract(BigInteger.ONE));
    v.add(BigInteger.TWO.pow(504));
    v.add(BigInteger.TWO.pow(511));
    // Largest multiple of L below 2^512, and its neighbours.
    BigInteger top = TWO_512.subtract(BigInteger.ONE).divide(L).multiply(L);
    v.add(top);
    v.add(top.subtract(BigInteger.ONE));
    v.add(top.add(TWO_512.subtract(BigInteger.ONE).mod(L)));
    // High part only (the first fold makes these negative), and 2^252·k for small k.
    for (int k = 1; k <= 15; k++) {
      v.add(BigInteger.TWO.pow(252).multiply(BigInteger.valueOf(k)));
      v.add(BigInteger.TWO.pow(252 + 17 * k));
    }
    return v;
  }

  /** A random value below 2^bits, with a random bit length so small and large values both occur. */
  private BigInteger randomBelow(int bits) {
    int kind = random.nextInt(8);
    if (kind == 0) {
      return new BigInteger(1 + random.nextInt(bits), random);
    }
    if (kind == 1) {
      // q·L + small, to stress the final correction.
      BigInteger q = new BigInteger(bits - 253, random);
      BigInteger v = q.multiply(L).add(BigInteger.valueOf(random.nextInt(5) - 2));
      return v.signum() < 0 || v.bitLength() > bits ? BigInteger.ZERO : v;
    }
    return new BigInteger(bits, random);
  }

  // --- reduce
  // --------------------------------------------------------------------------------------

  private static void checkReduce(BigInteger x) {
    byte[] in = le(x, 64);
    byte[] copy = in.clone();
    byte[] out = Scalar25519.reduce(in);
    assertEquals(32, out.length);
    assertEquals(x.mod(L), fromLe(out), () -> "reduce(" + x.toString(16) + ")");
    assertArrayEquals(copy, in, "input modified");
  }

  @Test
  void reduce_edgeValues() {
    for (BigInteger x : edges512()) {
      checkReduce(x);
    }
    byte[] ones = new byte[64];
    java.util.Arrays.fill(ones, (byte) 0xff);
    assertEquals(TWO_512.subtract(BigInteger.ONE).mod(L), fromLe(Scalar25519.reduce(ones)));
    assertArrayEquals(new byte[32], Scalar25519.reduce(new byte[64]));
  }

  @Test
  void reduce_randomValues() {
    for (int i = 0; i < RANDOM_CASES; i++) {
      checkReduce(randomBelow(512));
    }
  }

  @Test
  void reduce_randomBytes() {
    byte[] in = new byte[64];
    for (int i = 0; i < RANDOM_CASES; i++) {
      random.nextBytes(in);
      assertEquals(fromLe(in).mod(L), fromLe(Scalar25519.reduce(in)));
    }
  }

  // --- mulAdd
  // --------------------------------------------------------------------------------------

  private static void checkMulAdd(BigInteger a, BigInteger b, BigInteger c) {
    byte[] x = le(a, 32);
    byte[] y = le(b, 32);
    byte[] z = le(c, 32);
    byte[] out = Scalar25519.mulAdd(x, y, z);
    assertEquals(32, out.length);
    assertEquals(
        a.multiply(b).add(c).mod(L),
        fromLe(out),
        () -> "mulAdd(" + a.toString(16) + ", " + b.toString(16) + ", " + c.toString(16) + ")");
    assertArrayEquals(le(a, 32), x, "a modified");
    assertArrayEquals(le(b, 32), y, "b modified");
    assertArrayEquals(le(c, 32), z, "c modified");
  }

  @Test
  void mulAdd_edgeValues() {
    List<BigInteger> e = edges256();
    for (BigInteger a : e) {
      for (BigInteger b : e) {
        for (BigInteger c : e) {
          checkMulAdd(a, b, c);
        }
      }
    }
  }

  @Test
  void mulAdd_randomValues() {
    for (int i = 0; i < RANDOM_CASES; i++) {
      checkMulAdd(randomBelow(256), randomBelow(256), randomBelow(256));
    }
  }

  @Test
  void mulAdd_agreesWithReduceOfTheWideValue() {
    // Both paths share the folding; this checks the product and carry stage on its own shape.
    for (int i = 0; i < 1000; i++) {
      BigInteger a = new BigInteger(256, random);
      BigInteger b = new BigInteger(256, random);
      BigInteger c = new BigInteger(256, random);
      assertArrayEquals(
          Scalar25519.reduce(le(a.multiply(b).add(c), 64)),
          Scalar25519.mulAdd(le(a, 32), le(b, 32), le(c, 32)));
    }
  }

  // --- whole signatures
  // ----------------------------------------------------------------------------

  private static byte[] sha512(byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-512");
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Recomputes S of an Ed25519 signature (RFC 8032 section 5.1.6 steps 1, 2, 4, 5) from the seed,
   * the public key and R, which is taken from the signature because computing it needs the point
   * layer.
   */
  private static byte[] recomputeS(byte[] seed, byte[] publicKey, byte[] message, byte[] sig) {
    byte[] h = sha512(seed);
    byte[] s = java.util.Arrays.copyOf(h, 32);
    s[0] &= (byte) 248;
    s[31] &= 127;
    s[31] |= 64;
    byte[] prefix = java.util.Arrays.copyOfRange(h, 32, 64);
    byte[] r = Scalar25519.reduce(sha512(prefix, message));
    byte[] bigR = java.util.Arrays.copyOf(sig, 32);
    byte[] k = Scalar25519.reduce(sha512(bigR, publicKey, message));
    return Scalar25519.mulAdd(k, s, r);
  }

  @Test
  void signature_rfc8032Section71Test1And3() {
    // RFC 8032 section 7.1, "TEST 1" (empty message) and "TEST 3" (two-byte message af82).
    String[][] vectors = {
      {
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
      },
      {
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
            + "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
      },
    };
    for (String[] v : vectors) {
      byte[] sig = hex(v[3]);
      byte[] s = recomputeS(hex(v[0]), hex(v[1]), hex(v[2]), sig);
      assertEquals(v[3].substring(64), hex(s));
      assertTrue(Scalar25519.isCanonical(sig, 32));
    }
  }

  @Test
  void signature_matchesBouncyCastleSigner() {
    byte[] seed = new byte[32];
    for (int i = 0; i < 200; i++) {
      random.nextBytes(seed);
      byte[] message = new byte[random.nextInt(300)];
      random.nextBytes(message);
      Ed25519SecretKey key = Ed25519SecretKey.fromSeed(seed);
      byte[] sig = key.sign(message).toBytes();
      byte[] s = recomputeS(seed, key.publicKey().toBytes(), message, sig);
      assertEquals(hex(java.util.Arrays.copyOfRange(sig, 32, 64)), hex(s));
    }
  }

  // --- isCanonical
  // ---------------------------------------------------------------------------------

  @Test
  void isCanonical_edgeAndRandomValues() {
    List<BigInteger> values = edges256();
    for (int i = 0; i < RANDOM_CASES; i++) {
      values.add(randomBelow(256));
      // Values sharing a long prefix with L, to exercise the byte-by-byte comparison.
      values.add(L.add(BigInteger.valueOf(random.nextInt(1 << 20) - (1 << 19))));
    }
    for (BigInteger x : values) {
      byte[] buf = new byte[40];
      int off = random.nextInt(9);
      System.arraycopy(le(x, 32), 0, buf, off, 32);
      assertEquals(x.compareTo(L) < 0, Scalar25519.isCanonical(buf, off), x.toString(16));
    }
    assertTrue(Scalar25519.isCanonical(le(L.subtract(BigInteger.ONE), 32), 0));
    assertFalse(Scalar25519.isCanonical(le(L, 32), 0));
    assertFalse(Scalar25519.isCanonical(le(L.add(BigInteger.ONE), 32), 0));
    assertTrue(Scalar25519.isCanonical(new byte[32], 0));
  }

  // --- toSignedRadix16
  // -----------------------------------------------------------------------------

  private static void checkRadix16(BigInteger x) {
    byte[] s = le(x, 32);
    byte[] copy = s.clone();
    byte[] e = Scalar25519.toSignedRadix16(s);
    assertEquals(64, e.length);
    BigInteger sum = BigInteger.ZERO;
    for (int i = 63; i >= 0; i--) {
      if (i < 63) {
        assertTrue(e[i] >= -8 && e[i] <= 7, "digit " + i + " = " + e[i]);
      } else {
        assertTrue(e[i] >= 0 && e[i] <= 8, "top digit = " + e[i]);
      }
      sum = sum.shiftLeft(4).add(BigInteger.valueOf(e[i]));
    }
    assertEquals(x, sum, () -> "radix-16 of " + x.toString(16));
    assertArrayEquals(copy, s, "input modified");
  }

  @Test
  void toSignedRadix16_edgeAndRandomValues() {
    BigInteger limit = BigInteger.TWO.pow(255);
    for (BigInteger x : edges256()) {
      if (x.compareTo(limit) < 0) {
        checkRadix16(x);
      }
    }
    // Nibble patterns at the carry thresholds: all 7s (no carries), all 8s (a carry at every
    // digit), 0x7f..ff (a carry chain into the top digit, which becomes 8).
    checkRadix16(fromLe(fill((byte) 0x77)));
    byte[] eights = fill((byte) 0x88);
    eights[31] = 0x78;
    checkRadix16(fromLe(eights));
    byte[] top = fill((byte) 0xff);
    top[31] = 0x7f;
    checkRadix16(fromLe(top));
    byte[] e = Scalar25519.toSignedRadix16(top);
    // 2^255 - 1 = 8·16^63 - 1: the top digit reaches its bound 8, the carry zeroes the middle.
    assertEquals(8, e[63]);
    assertEquals(-1, e[0]);
    for (int i = 1; i < 63; i++) {
      assertEquals(0, e[i], "digit " + i);
    }
    for (int i = 0; i < RANDOM_CASES; i++) {
      checkRadix16(randomBelow(256).mod(limit));
      // A clamped Ed25519 secret scalar (RFC 8032 section 5.1.5).
      byte[] c = new byte[32];
      random.nextBytes(c);
      c[0] &= (byte) 248;
      c[31] &= 127;
      c[31] |= 64;
      checkRadix16(fromLe(c));
    }
  }

  private static byte[] fill(byte b) {
    byte[] a = new byte[32];
    java.util.Arrays.fill(a, b);
    return a;
  }

  // --- nonAdjacentForm
  // -----------------------------------------------------------------------------

  private static void checkNaf(BigInteger x, int w) {
    byte[] s = le(x, 32);
    byte[] copy = s.clone();
    byte[] d = Scalar25519.nonAdjacentForm(s, w);
    assertEquals(257, d.length);
    BigInteger sum = BigInteger.ZERO;
    int lastNonzero = Integer.MIN_VALUE / 2;
    for (int i = 0; i < d.length; i++) {
      int di = d[i];
      if (di != 0) {
        assertTrue((di & 1) == 1, "even digit " + di + " at " + i);
        assertTrue(Math.abs(di) < (1 << (w - 1)), "digit " + di + " too large for width " + w);
        assertTrue(i - lastNonzero >= w, "nonzero digits at " + lastNonzero + " and " + i);
        lastNonzero = i;
      }
    }
    for (int i = d.length - 1; i >= 0; i--) {
      sum = sum.shiftLeft(1).add(BigInteger.valueOf(d[i]));
    }
    assertEquals(x, sum, () -> "width-" + w + " NAF of " + x.toString(16));
    assertArrayEquals(copy, s, "input modified");
  }

  @Test
  void nonAdjacentForm_edgeAndRandomValues() {
    for (int w = 2; w <= 8; w++) {
      for (BigInteger x : edges256()) {
        checkNaf(x, w);
      }
      for (int i = 0; i < 1000; i++) {
        checkNaf(randomBelow(256), w);
      }
    }
  }

  @Test
  void nonAdjacentForm_reachesTheDigitBound() {
    // 2^(w-1) - 1 is itself the largest allowed digit; 2^(w-1) + 1 = -(2^(w-1) - 1) + 2^w needs
    // the most negative digit and a carry to position w.
    for (int w = 2; w <= 8; w++) {
      BigInteger x = BigInteger.valueOf((1 << (w - 1)) - 1); // the largest allowed digit itself
      byte[] d = Scalar25519.nonAdjacentForm(le(x, 32), w);
      assertEquals((1 << (w - 1)) - 1, d[0]);
      BigInteger y = BigInteger.valueOf((1 << (w - 1)) + 1); // needs the most negative digit
      byte[] f = Scalar25519.nonAdjacentForm(le(y, 32), w);
      assertEquals(-((1 << (w - 1)) - 1), f[0]);
      assertEquals(1, f[w]);
    }
  }

  @Test
  void nonAdjacentForm_usesDigit256WhenNeeded() {
    // 2^256 - 1 = 2^256 - 2^0: the width-2 NAF is -1 at 0 and +1 at 256.
    byte[] d = Scalar25519.nonAdjacentForm(le(TWO_256.subtract(BigInteger.ONE), 32), 2);
    assertEquals(-1, d[0]);
    assertEquals(1, d[256]);
    for (int i = 1; i < 256; i++) {
      assertEquals(0, d[i]);
    }
  }

  // --- argument checks
  // -----------------------------------------------------------------------------

  @Test
  void wrongLengthsAreRejected() {
    for (int len : new int[] {0, 31, 32, 63, 65}) {
      byte[] in = new byte[len];
      java.util.Arrays.fill(in, (byte) 0xab);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Scalar25519.reduce(in));
      assertEquals("input of reduce must be 64 bytes but was " + len + " bytes", e.getMessage());
    }
    byte[] ok = new byte[32];
    for (int len : new int[] {0, 31, 33, 64}) {
      byte[] bad = new byte[len];
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> Scalar25519.mulAdd(bad, ok, ok))
              .getMessage()
              .startsWith("first factor of mulAdd must be 32 bytes but was " + len));
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> Scalar25519.mulAdd(ok, bad, ok))
              .getMessage()
              .startsWith("second factor of mulAdd must be 32 bytes but was " + len));
      assertTrue(
          assertThrows(IllegalArgumentException.class, () -> Scalar25519.mulAdd(ok, ok, bad))
              .getMessage()
              .startsWith("addend of mulAdd must be 32 bytes but was " + len));
      assertThrows(IllegalArgumentException.class, () -> Scalar25519.toSignedRadix16(bad));
      assertThrows(IllegalArgumentException.class, () -> Scalar25519.nonAdjacentForm(bad, 5));
    }
    assertArrayEquals(new byte[32], ok, "argument modified");
  }

  @Test
  void badOffsetsAreRejected() {
    byte[] buf = new byte[40];
    assertThrows(IllegalArgumentException.class, () -> Scalar25519.isCanonical(buf, 9));
    assertThrows(IllegalArgumentException.class, () -> Scalar25519.isCanonical(buf, -1));
    assertThrows(IllegalArgumentException.class, () -> Scalar25519.isCanonical(new byte[31], 0));
    String msg =
        assertThrows(IllegalArgumentException.class, () -> Scalar25519.isCanonical(buf, 20))
            .getMessage();
    assertEquals("scalar needs 32 bytes at offset 20 but the array has 40 bytes", msg);
  }

  @Test
  void outOfRangeParametersAreRejected() {
    byte[] high = new byte[32];
    high[31] = (byte) 0x80;
    high[0] = 0x5a;
    String msg =
        assertThrows(IllegalArgumentException.class, () -> Scalar25519.toSignedRadix16(high))
            .getMessage();
    assertFalse(msg.contains("5a") || msg.contains("80"), "message leaks scalar bytes: " + msg);
    for (int w : new int[] {-1, 0, 1, 9, 64}) {
      assertEquals(
          "NAF width must be from 2 to 8 but was " + w,
          assertThrows(
                  IllegalArgumentException.class,
                  () -> Scalar25519.nonAdjacentForm(new byte[32], w))
              .getMessage());
    }
    assertThrows(NullPointerException.class, () -> Scalar25519.reduce(null));
  }
}
