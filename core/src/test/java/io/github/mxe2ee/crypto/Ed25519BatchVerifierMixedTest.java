package io.github.mxe2ee.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.crypto.curve.EdDsa;
import io.github.mxe2ee.crypto.curve.EdwardsPoint;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Batch verification against single verification on inputs the basic tests do not combine: one
 * batch with every kind of bad item at once, keys with a small-order (torsion) component, inputs
 * longer than {@link Ed25519BatchVerifier#MAX_BATCH_SIZE}, and the multi-scalar multiplication
 * against plain double-and-add for every window width the batch sizes select.
 */
class Ed25519BatchVerifierMixedTest {
  /** A point of order 8 (its y is in {@link Ed25519BatchVerifier#SMALL_ORDER_Y}). */
  private static final byte[] ORDER_8 =
      HexFormat.of().parseHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");

  private final SecureRandom random = new SecureRandom();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean[] singly(
      List<Ed25519PublicKey> keys, List<byte[]> messages, List<Ed25519Signature> signatures) {
    boolean[] out = new boolean[keys.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = keys.get(i).verify(messages.get(i), signatures.get(i));
    }
    return out;
  }

  @Test
  void batchWithEveryKindOfBadItem_givesExactlyTheSingleVerificationResults() {
    Ed25519SecretKey[] signers = new Ed25519SecretKey[4];
    for (int i = 0; i < signers.length; i++) {
      signers[i] = Ed25519SecretKey.fromSeed(Sha256.hash(utf8("mixed signer " + i)));
    }
    List<Ed25519PublicKey> keys = new ArrayList<>();
    List<byte[]> messages = new ArrayList<>();
    List<Ed25519Signature> signatures = new ArrayList<>();
    for (int i = 0; i < 70; i++) {
      Ed25519SecretKey signer = signers[i % signers.length];
      byte[] m = utf8("message " + i);
      keys.add(signer.publicKey());
      messages.add(m);
      signatures.add(signer.sign(m));
    }
    // 3: tampered message.
    messages.set(3, utf8("message 3, edited"));
    // 10: s replaced by s + L (same value mod L, non-canonical).
    byte[] sig = signatures.get(10).toBytes();
    byte[] sPlusL = addL(Arrays.copyOfRange(sig, 32, 64));
    System.arraycopy(sPlusL, 0, sig, 32, 32);
    signatures.set(10, Ed25519Signature.fromBytes(sig));
    // 17: R is the point of order 8.
    sig = signatures.get(17).toBytes();
    System.arraycopy(ORDER_8, 0, sig, 0, 32);
    signatures.set(17, Ed25519Signature.fromBytes(sig));
    // 24: R does not decode (y = 2 is not on the curve).
    sig = signatures.get(24).toBytes();
    Arrays.fill(sig, 0, 32, (byte) 0);
    sig[0] = 2;
    signatures.set(24, Ed25519Signature.fromBytes(sig));
    // 31: signed by another key.
    keys.set(31, signers[(31 + 1) % signers.length].publicKey());
    // 38: s off by one.
    sig = signatures.get(38).toBytes();
    sig[32] ^= 1;
    signatures.set(38, Ed25519Signature.fromBytes(sig));
    // 45: a valid R of another signature by the same key.
    sig = signatures.get(45).toBytes();
    System.arraycopy(signatures.get(45 - signers.length).toBytes(), 0, sig, 0, 32);
    signatures.set(45, Ed25519Signature.fromBytes(sig));

    boolean[] expected = singly(keys, messages, signatures);
    for (int i = 0; i < expected.length; i++) {
      boolean bad = i == 3 || i == 10 || i == 17 || i == 24 || i == 31 || i == 38 || i == 45;
      assertEquals(!bad, expected[i], "single verification of item " + i);
    }
    List<Integer> batched = new ArrayList<>();
    assertEquals(
        Boolean.FALSE,
        Ed25519BatchVerifier.batchEquation(
            keys, messages, signatures, random, 0, keys.size(), batched));
    // Only the up-front rejections (s >= L, small-order R, undecodable R) stay out of the batch.
    for (int i = 0; i < keys.size(); i++) {
      assertEquals(i != 10 && i != 17 && i != 24, batched.contains(i), "batched " + i);
    }
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  /**
   * A key {@code A' = A + T} with T of order 8, signed with A's secret (as a malicious key owner
   * could): single (cofactorless) verification accepts a signature only if {@code k ≡ 0 (mod 8)},
   * while the cofactored batch equation accepts all of them. This is the one documented difference,
   * and it only arises for a key whose owner put the torsion component there.
   */
  @Test
  void keysWithATorsionComponent_batchIsCofactored_fallbackIsSingleVerification() {
    byte[] expanded = EdDsa.expandSeed(Sha256.hash(utf8("torsion signer")));
    byte[] honest = EdDsa.publicKey(expanded);
    EdwardsPoint a = new EdwardsPoint();
    EdwardsPoint t = new EdwardsPoint();
    assertTrue(EdwardsPoint.decode(honest, 0, a));
    assertTrue(EdwardsPoint.decode(ORDER_8, 0, t));
    EdwardsPoint.Cached tc = new EdwardsPoint.Cached();
    t.toCached(tc);
    a.add(tc);
    byte[] twisted = new byte[32];
    a.encode(twisted, 0);
    Ed25519PublicKey key = Ed25519PublicKey.fromBytes(twisted); // accepted: not of small order
    Ed25519PublicKey honestKey = Ed25519PublicKey.fromBytes(honest);
    Ed25519SecretKey other = Ed25519SecretKey.fromSeed(Sha256.hash(utf8("ordinary signer")));

    List<Ed25519PublicKey> keys = new ArrayList<>();
    List<byte[]> messages = new ArrayList<>();
    List<Ed25519Signature> signatures = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      byte[] m = utf8("torsion message " + i);
      messages.add(m);
      if (i % 2 == 0) {
        keys.add(key);
        signatures.add(Ed25519Signature.fromBytes(EdDsa.sign(expanded, twisted, m, 0, m.length)));
      } else {
        keys.add(other.publicKey());
        signatures.add(other.sign(m));
      }
    }
    boolean[] single = singly(keys, messages, signatures);
    int torsionRejected = 0;
    for (int i = 0; i < single.length; i += 2) {
      torsionRejected += single[i] ? 0 : 1;
    }
    // Deterministic signatures: 12 items with k mod 8 uniform; these seeds give both outcomes.
    assertTrue(torsionRejected > 0 && torsionRejected < 12, "rejected " + torsionRejected);

    // All cofactored-valid: the batch holds and accepts every item.
    assertEquals(
        Boolean.TRUE,
        Ed25519BatchVerifier.batchEquation(
            keys, messages, signatures, random, 0, keys.size(), new ArrayList<>()));
    boolean[] all = new boolean[keys.size()];
    Arrays.fill(all, true);
    assertArrayEquals(all, Ed25519BatchVerifier.verify(keys, messages, signatures, random));

    // The same signatures do not verify for the honest key A: the torsion part is in k and R.
    assertFalse(honestKey.verify(messages.get(0), signatures.get(0)));

    // One bad item makes the batch fail, and then every item gets single verification's result.
    messages.set(5, utf8("torsion message 5, edited"));
    boolean[] expected = singly(keys, messages, signatures);
    assertFalse(expected[5]);
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void moreThanMaxBatchSize_isSplit_andTheShortTailIsVerifiedSingly() {
    Ed25519SecretKey signer = Ed25519SecretKey.fromSeed(Sha256.hash(utf8("long backlog")));
    int n = Ed25519BatchVerifier.MAX_BATCH_SIZE + Ed25519BatchVerifier.MIN_BATCH_SIZE - 1;
    List<byte[]> messages = new ArrayList<>();
    List<Ed25519Signature> signatures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] m = utf8("event " + i);
      messages.add(m);
      signatures.add(signer.sign(m));
    }
    int inFirst = 1234;
    int inTail = Ed25519BatchVerifier.MAX_BATCH_SIZE + 3;
    messages.set(inFirst, utf8("edited"));
    messages.set(inTail, utf8("edited too"));
    boolean[] expected = new boolean[n];
    Arrays.fill(expected, true);
    expected[inFirst] = false;
    expected[inTail] = false;
    assertArrayEquals(
        expected, Ed25519BatchVerifier.verify(signer.publicKey(), messages, signatures, random));
  }

  @Test
  void multiScalarMultiply_matchesDoubleAndAdd_forEveryWindowWidthUsed() {
    for (int n : new int[] {1, 2, 5, 9, 33, 130, 600}) {
      List<Ed25519BatchVerifier.Affine> points = new ArrayList<>();
      List<long[]> scalars = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        byte[] enc = Ed25519SecretKey.generate(random).publicKey().toBytes();
        if (j % 7 == 3) {
          // a point with a torsion component: the sum must not care
          EdwardsPoint p = new EdwardsPoint();
          EdwardsPoint t = new EdwardsPoint();
          assertTrue(EdwardsPoint.decode(enc, 0, p));
          assertTrue(EdwardsPoint.decode(ORDER_8, 0, t));
          EdwardsPoint.Cached tc = new EdwardsPoint.Cached();
          t.toCached(tc);
          p.add(tc);
          p.encode(enc, 0);
        }
        Ed25519BatchVerifier.Affine point = Ed25519BatchVerifier.decompress(enc, 0);
        points.add(j % 5 == 4 ? point.timesTwoPow(17) : point); // some with Z != 1
        long[] s = {random.nextLong(), random.nextLong()};
        if (j % 11 == 0) {
          s = new long[] {0, 0};
        } else if (j % 11 == 1) {
          s = new long[] {-1, -1}; // 2^128 - 1: every digit is the largest
        } else if (j % 11 == 2) {
          s = scalars.get(j - 1).clone(); // equal digits: shared buckets
        }
        scalars.add(s);
      }
      EdwardsPoint expected = new EdwardsPoint();
      for (int bit = 127; bit >= 0; bit--) {
        expected.doublePoint();
        for (int j = 0; j < n; j++) {
          if (Ed25519BatchVerifier.digit(scalars.get(j)[0], scalars.get(j)[1], bit, 1) == 1) {
            expected.add(points.get(j).cached);
          }
        }
      }
      EdwardsPoint actual = Ed25519BatchVerifier.multiScalarMultiply(points, scalars).point;
      assertArrayEquals(encode(expected), encode(actual), "n = " + n);
    }
  }

  @Test
  void signedDigits_sumToTheScalar_withinHalfAWindow() {
    List<long[]> scalars = new ArrayList<>();
    scalars.add(new long[] {0, 0});
    scalars.add(new long[] {-1, -1}); // 2^128 - 1: carries through every window
    scalars.add(new long[] {0x8080808080808080L, 0x8080808080808080L});
    scalars.add(new long[] {1, Long.MIN_VALUE}); // bit 127 set
    for (int i = 0; i < 50; i++) {
      scalars.add(new long[] {random.nextLong(), random.nextLong()});
    }
    for (int c = 1; c <= 12; c++) {
      short[][] digits = Ed25519BatchVerifier.signedDigits(scalars, c);
      for (int j = 0; j < scalars.size(); j++) {
        BigInteger sum = BigInteger.ZERO;
        for (int w = 0; w < digits.length; w++) {
          int d = digits[w][j];
          assertTrue(Math.abs(d) <= 1 << (c - 1), "c=" + c + " digit " + d);
          sum = sum.add(BigInteger.valueOf(d).shiftLeft(c * w));
        }
        long[] s = scalars.get(j);
        BigInteger expected =
            new BigInteger(Long.toUnsignedString(s[1]))
                .shiftLeft(64)
                .add(new BigInteger(Long.toUnsignedString(s[0])));
        assertEquals(expected, sum, "c=" + c + " scalar " + j);
      }
    }
  }

  private static byte[] encode(EdwardsPoint p) {
    byte[] out = new byte[32];
    p.encode(out, 0);
    return out;
  }

  /** {@code s + L} as 32 little-endian bytes ({@code s < L}, so the sum is below 2^254). */
  private static byte[] addL(byte[] s) {
    byte[] l =
        HexFormat.of().parseHex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    byte[] out = new byte[32];
    int carry = 0;
    for (int i = 0; i < 32; i++) {
      int v = (s[i] & 0xff) + (l[i] & 0xff) + carry;
      out[i] = (byte) v;
      carry = v >>> 8;
    }
    return out;
  }
}
