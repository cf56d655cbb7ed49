package io.github.mxe2ee.crypto.curve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.Random;
import org.bouncycastle.math.ec.rfc7748.X25519;
import org.bouncycastle.math.ec.rfc8032.Ed25519;
import org.junit.jupiter.api.Test;

/**
 * {@link EdDsa} and {@link VerificationKey} against RFC 8032's test vectors and Bouncy Castle's
 * independent implementation (signatures are deterministic, so they must be byte-identical).
 */
class EdDsaTest {
  private static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
  private final Random random = new Random(5_1_7);

  @Test
  void rfc8032Test1And3() {
    // RFC 8032 section 7.1, TEST 1 (empty message) and TEST 3 (two bytes).
    check(
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    check(
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a");
  }

  private static void check(String seedHex, String pubHex, String msgHex, String sigHex) {
    HexFormat hex = HexFormat.of();
    byte[] expanded = EdDsa.expandSeed(hex.parseHex(seedHex));
    byte[] pub = EdDsa.publicKey(expanded);
    assertEquals(pubHex, hex.formatHex(pub));
    byte[] msg = hex.parseHex(msgHex);
    byte[] sig = EdDsa.sign(expanded, pub, msg, 0, msg.length);
    assertEquals(sigHex, hex.formatHex(sig));
    VerificationKey key = VerificationKey.decode(pub);
    for (int i = 0; i < 6; i++) { // single-table path, then the chunked tables
      assertTrue(key.verify(sig, 0, msg, 0, msg.length));
    }
  }

  @Test
  void signaturesAndKeysAreByteIdenticalToBouncyCastle() {
    for (int i = 0; i < 200; i++) {
      byte[] seed = new byte[32];
      random.nextBytes(seed);
      byte[] msg = new byte[random.nextInt(300)];
      random.nextBytes(msg);
      byte[] bcPub = new byte[32];
      Ed25519.generatePublicKey(seed, 0, bcPub, 0);
      byte[] bcSig = new byte[64];
      Ed25519.sign(seed, 0, msg, 0, msg.length, bcSig, 0);
      byte[] expanded = EdDsa.expandSeed(seed);
      byte[] pub = EdDsa.publicKey(expanded);
      assertArrayEquals(bcPub, pub);
      assertArrayEquals(bcSig, EdDsa.sign(expanded, pub, msg, 0, msg.length));
    }
  }

  @Test
  void x25519PublicKeysMatchTheLadder() {
    for (int i = 0; i < 200; i++) {
      byte[] secret = new byte[32];
      random.nextBytes(secret);
      byte[] expected = new byte[32];
      X25519.scalarMultBase(secret, 0, expected, 0);
      assertArrayEquals(expected, EdDsa.x25519PublicKey(secret));
      byte[] nine = new byte[32];
      nine[0] = 9;
      byte[] ladder = new byte[32];
      X25519Ladder.scalarMult(secret, nine, ladder);
      assertArrayEquals(expected, ladder);
    }
  }

  @Test
  void verificationDecisionsMatchBouncyCastle() {
    int valid = 0;
    for (int i = 0; i < 300; i++) {
      byte[] seed = new byte[32];
      random.nextBytes(seed);
      byte[] pub = new byte[32];
      Ed25519.generatePublicKey(seed, 0, pub, 0);
      byte[] msg = new byte[64];
      random.nextBytes(msg);
      byte[] sig = new byte[64];
      Ed25519.sign(seed, 0, msg, 0, msg.length, sig, 0);
      switch (i % 6) {
        case 0 -> {} // valid
        case 1 -> sig[random.nextInt(64)] ^= (byte) (1 << random.nextInt(8)); // flipped bit
        case 2 -> msg[random.nextInt(64)] ^= 1; // other message
        case 3 -> addL(sig); // S + L: same point equation, non-canonical S
        case 4 -> random.nextBytes(sig); // garbage
        default -> sig[63] |= (byte) 0xe0; // S far above L
      }
      VerificationKey key = VerificationKey.decode(pub);
      Ed25519.PublicPoint bcKey = Ed25519.validatePublicKeyPartialExport(pub, 0);
      boolean expected = Ed25519.verify(sig, 0, bcKey, msg, 0, msg.length);
      for (int round = 0; round < 6; round++) {
        assertEquals(expected, key.verify(sig, 0, msg, 0, msg.length), "case " + i % 6);
      }
      if (expected) {
        valid++;
      }
    }
    assertTrue(valid >= 50);
  }

  @Test
  void rejectsInvalidKeysAndOffsetsWork() {
    byte[] notAPoint = new byte[32];
    notAPoint[0] = 2; // y = 2 has no x
    assertNull(VerificationKey.decode(notAPoint));
    byte[] seed = new byte[32];
    byte[] expanded = EdDsa.expandSeed(seed);
    byte[] pub = EdDsa.publicKey(expanded);
    byte[] framed = new byte[100];
    random.nextBytes(framed);
    byte[] sig = EdDsa.sign(expanded, pub, framed, 10, 50);
    byte[] sigFramed = new byte[70];
    System.arraycopy(sig, 0, sigFramed, 3, 64);
    VerificationKey key = VerificationKey.decode(pub);
    assertTrue(key.verify(sigFramed, 3, framed, 10, 50));
    assertFalse(key.verify(sigFramed, 3, framed, 10, 49));
  }

  @Test
  void smallOrderKeysAreRefusedAndMixedOrderKeysAcceptedLikeBouncyCastle() {
    String[] smallOrderY = {
      "0100000000000000000000000000000000000000000000000000000000000000",
      "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    };
    EdwardsPoint torsion = new EdwardsPoint();
    for (String y : smallOrderY) {
      for (int sign = 0; sign < 2; sign++) {
        byte[] enc = HexFormat.of().parseHex(y);
        enc[31] |= (byte) (sign << 7);
        assertNull(VerificationKey.decode(enc), y + " sign " + sign);
        assertNull(Ed25519.validatePublicKeyPartialExport(enc, 0), y + " sign " + sign);
      }
    }
    // A proper key plus a point of order 4: accepted by both.
    assertTrue(EdwardsPoint.decode(HexFormat.of().parseHex(smallOrderY[2]), 0, torsion));
    EdwardsPoint.Cached torsionCached = new EdwardsPoint.Cached();
    torsion.toCached(torsionCached);
    EdwardsPoint mixed = new EdwardsPoint();
    FixedBase.multiply(java.util.Arrays.copyOf(EdDsa.expandSeed(new byte[32]), 32), mixed);
    mixed.add(torsionCached);
    byte[] enc = new byte[32];
    mixed.encode(enc, 0);
    assertTrue(VerificationKey.decode(enc) != null);
    assertTrue(Ed25519.validatePublicKeyPartialExport(enc, 0) != null);
  }

  private static void addL(byte[] sig) {
    byte[] le = java.util.Arrays.copyOfRange(sig, 32, 64);
    BigInteger s = new BigInteger(1, Field25519Test.reverse(le)).add(L);
    byte[] be = s.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < be.length; i++) {
      out[i] = be[be.length - 1 - i];
    }
    System.arraycopy(out, 0, sig, 32, 32);
  }
}
