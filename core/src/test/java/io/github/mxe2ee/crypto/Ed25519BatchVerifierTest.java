package io.github.mxe2ee.crypto;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class Ed25519BatchVerifierTest {
  /** RFC 8032 section 7.1, TEST 1 to TEST 3: public key, message, signature (hex). */
  private static final String[][] RFC8032 = {
    {
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
      "",
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
          + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    },
    {
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
      "72",
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
          + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
    },
    {
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
      "af82",
      "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
          + "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
    },
  };

  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

  private final SecureRandom random = new SecureRandom();
  private final List<Ed25519PublicKey> keys = new ArrayList<>();
  private final List<byte[]> messages = new ArrayList<>();
  private final List<Ed25519Signature> signatures = new ArrayList<>();

  /** The RFC vectors plus {@code generated} signatures by three fresh keys, interleaved. */
  private void fill(int generated) {
    for (String[] v : RFC8032) {
      Ed25519PublicKey key = Ed25519PublicKey.fromBytes(hex(v[0]));
      Ed25519Signature sig = Ed25519Signature.fromBytes(hex(v[2]));
      assertTrue(key.verify(hex(v[1]), sig), "RFC 8032 vector " + v[0] + " (single verify)");
      keys.add(key);
      messages.add(hex(v[1]));
      signatures.add(sig);
    }
    Ed25519SecretKey[] signers = {
      Ed25519SecretKey.generate(random),
      Ed25519SecretKey.generate(random),
      Ed25519SecretKey.generate(random)
    };
    for (int i = 0; i < generated; i++) {
      Ed25519SecretKey signer = signers[i % signers.length];
      byte[] message = new byte[i * 7 % 300];
      random.nextBytes(message);
      keys.add(signer.publicKey());
      messages.add(message);
      signatures.add(signer.sign(message));
    }
  }

  private boolean[] allTrue(int n) {
    boolean[] expected = new boolean[n];
    Arrays.fill(expected, true);
    return expected;
  }

  private Boolean equation() {
    return Ed25519BatchVerifier.batchEquation(
        keys, messages, signatures, random, 0, keys.size(), new ArrayList<>());
  }

  @Test
  void validSignatures_batchEquationHoldsAndAllAccepted() {
    fill(61);
    assertEquals(Boolean.TRUE, equation());
    assertArrayEquals(allTrue(64), Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void oneKey_manyMessages_likeAMegolmBacklog() {
    Ed25519SecretKey signer = Ed25519SecretKey.generate(random);
    List<byte[]> msgs = new ArrayList<>();
    List<Ed25519Signature> sigs = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      byte[] m = ("event " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
      msgs.add(m);
      sigs.add(signer.sign(m));
    }
    assertArrayEquals(
        allTrue(300), Ed25519BatchVerifier.verify(signer.publicKey(), msgs, sigs, random));
  }

  @Test
  void tamperedMessage_failsEquation_andOnlyThatItemIsRejected() {
    fill(40);
    byte[] m = messages.get(17).clone();
    m[0] ^= 1;
    messages.set(17, m);
    assertEquals(Boolean.FALSE, equation());
    boolean[] expected = allTrue(43);
    expected[17] = false;
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void tamperedSignatureScalarOrPoint_isRejected() {
    fill(20);
    byte[] s1 = signatures.get(5).toBytes();
    s1[40] ^= 4; // s changes: equation fails
    signatures.set(5, Ed25519Signature.fromBytes(s1));
    byte[] s2 = signatures.get(1).toBytes();
    s2[3] ^= 1; // R changes (may not even decode)
    signatures.set(1, Ed25519Signature.fromBytes(s2));
    boolean[] expected = allTrue(23);
    expected[5] = false;
    expected[1] = false;
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void wrongKey_isRejected() {
    fill(20);
    keys.set(9, Ed25519SecretKey.generate(random).publicKey());
    boolean[] expected = allTrue(23);
    expected[9] = false;
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void nonCanonicalScalar_sPlusL_isRejectedUpFront() {
    fill(20);
    byte[] sig = signatures.get(4).toBytes();
    BigInteger s = leToInt(sig, 32);
    byte[] sPlusL = intToLe(s.add(L));
    System.arraycopy(sPlusL, 0, sig, 32, 32);
    signatures.set(4, Ed25519Signature.fromBytes(sig));
    List<Integer> batched = new ArrayList<>();
    assertEquals(
        Boolean.TRUE,
        Ed25519BatchVerifier.batchEquation(
            keys, messages, signatures, random, 0, keys.size(), batched),
        "the malleated item is kept out, so the rest still holds");
    assertFalse(batched.contains(4));
    boolean[] expected = allTrue(23);
    expected[4] = false;
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void smallOrderR_isRejectedUpFront() {
    fill(20);
    byte[] sig = signatures.get(6).toBytes();
    byte[] identity = new byte[32];
    identity[0] = 1; // the neutral element (0, 1)
    System.arraycopy(identity, 0, sig, 0, 32);
    signatures.set(6, Ed25519Signature.fromBytes(sig));
    boolean[] expected = allTrue(23);
    expected[6] = false;
    assertArrayEquals(expected, Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void smallOrderTable_isExactlyTheTorsionPoints() {
    for (byte[] y : Ed25519BatchVerifier.SMALL_ORDER_Y) {
      for (int sign = 0; sign < 2; sign++) {
        byte[] enc = y.clone();
        enc[31] |= (byte) (sign << 7);
        Ed25519BatchVerifier.Affine p = Ed25519BatchVerifier.decompress(enc, 0);
        if (p == null) {
          // only x = 0 with the sign bit set is not a valid encoding
          assertEquals(1, sign, hex(enc));
          continue;
        }
        assertTrue(p.hasSmallOrder(), "[8]P = 0 for " + hex(enc));
        assertTrue(Ed25519BatchVerifier.hasSmallOrderEncoding(enc, 0), hex(enc));
      }
    }
    for (String[] v : RFC8032) {
      assertFalse(Ed25519BatchVerifier.hasSmallOrderEncoding(hex(v[0]), 0), v[0]);
      assertFalse(Ed25519BatchVerifier.decompress(hex(v[0]), 0).hasSmallOrder(), v[0]);
    }
  }

  @Test
  void smallBatches_useSingleVerification_withSameResults() {
    fill(2);
    byte[] m = messages.get(4).clone();
    if (m.length == 0) {
      m = new byte[] {1};
    } else {
      m[0] ^= 1;
    }
    messages.set(4, m);
    assertTrue(keys.size() < Ed25519BatchVerifier.MIN_BATCH_SIZE);
    assertArrayEquals(
        new boolean[] {true, true, true, true, false},
        Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void emptyInput_givesEmptyResult() {
    assertEquals(0, Ed25519BatchVerifier.verify(keys, messages, signatures, random).length);
  }

  @Test
  void mismatchedListSizes_throw() {
    fill(10);
    messages.remove(0);
    assertThrows(
        IllegalArgumentException.class,
        () -> Ed25519BatchVerifier.verify(keys, messages, signatures, random));
  }

  @Test
  void decompress_roundTripsRealKeys_andRejectsBadEncodings() {
    for (String[] v : RFC8032) {
      Ed25519BatchVerifier.Affine p = Ed25519BatchVerifier.decompress(hex(v[0]), 0);
      assertNotNull(p, v[0]);
      assertEquals(v[0], hex(encode(p)), "re-encoding " + v[0]);
    }
    // y = p (non-canonical encoding of y = 0).
    byte[] nonCanonical = hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    assertNull(Ed25519BatchVerifier.decompress(nonCanonical, 0));
    // x = 0 with the sign bit set: (0, 1) encoded as "negative zero".
    byte[] negativeZero = new byte[32];
    negativeZero[0] = 1;
    negativeZero[31] = (byte) 0x80;
    assertNull(Ed25519BatchVerifier.decompress(negativeZero, 0));
    // y = 2 is not on the curve (u/v is not a square).
    byte[] notOnCurve = new byte[32];
    notOnCurve[0] = 2;
    assertNull(Ed25519BatchVerifier.decompress(notOnCurve, 0));
  }

  @Test
  void groupArithmetic_doublingMatchesAddition_andOrderOfBaseIsL() {
    Ed25519BatchVerifier.Affine b =
        Ed25519BatchVerifier.decompress(
            hex("5866666666666666666666666666666666666666666666666666666666666666"), 0);
    Ed25519BatchVerifier.Extended doubled = Ed25519BatchVerifier.Extended.identity();
    doubled.set(b);
    doubled.doubleInPlace();
    Ed25519BatchVerifier.Extended added = Ed25519BatchVerifier.Extended.identity();
    added.set(b);
    added.addInPlace(b);
    assertEquals(hex(encode(doubled.toAffine())), hex(encode(added.toAffine())));
    Ed25519BatchVerifier.Extended self = Ed25519BatchVerifier.Extended.identity();
    self.set(b);
    self.addInPlace(self);
    assertEquals(hex(encode(doubled.toAffine())), hex(encode(self.toAffine())));
    // [L]B = 0 through the multi-scalar multiplication, with L split at 2^128.
    List<Ed25519BatchVerifier.Affine> points = List.of(b, b.timesTwoPow(128));
    BigInteger lo = L.and(BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE));
    BigInteger hi = L.shiftRight(128);
    List<long[]> scalars =
        List.of(
            new long[] {lo.longValue(), lo.shiftRight(64).longValue()},
            new long[] {hi.longValue(), hi.shiftRight(64).longValue()});
    assertTrue(Ed25519BatchVerifier.multiScalarMultiply(points, scalars).isIdentity());
    // ... and [L-1]B = -B is not.
    List<long[]> minusOne =
        List.of(
            new long[] {lo.longValue() - 1, lo.shiftRight(64).longValue()},
            new long[] {hi.longValue(), hi.shiftRight(64).longValue()});
    assertFalse(Ed25519BatchVerifier.multiScalarMultiply(points, minusOne).isIdentity());
  }

  @Test
  void digitsAndWindows() {
    long lo = 0xFEDCBA9876543210L;
    long hi = 0x0123456789ABCDEFL;
    assertEquals(0x10, Ed25519BatchVerifier.digit(lo, hi, 0, 8));
    assertEquals(0xEF, Ed25519BatchVerifier.digit(lo, hi, 64, 8));
    assertEquals(0xEFF, Ed25519BatchVerifier.digit(lo, hi, 60, 12)); // straddles the two words
    assertEquals(0x0, Ed25519BatchVerifier.digit(lo, hi, 124, 4));
    assertTrue(Ed25519BatchVerifier.windowBits(1000) >= 6);
    assertTrue(Ed25519BatchVerifier.windowBits(10) <= 4);
  }

  private static byte[] encode(Ed25519BatchVerifier.Affine p) {
    Ed25519BatchVerifier.Extended e = Ed25519BatchVerifier.Extended.identity();
    e.set(p);
    byte[] out = new byte[32];
    e.point.encode(out, 0);
    return out;
  }

  private static BigInteger leToInt(byte[] b, int off) {
    byte[] be = new byte[33];
    for (int i = 0; i < 32; i++) {
      be[32 - i] = b[off + i];
    }
    return new BigInteger(be);
  }

  private static byte[] intToLe(BigInteger v) {
    byte[] be = v.toByteArray();
    byte[] le = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      le[i] = be[be.length - 1 - i];
    }
    return le;
  }
}
