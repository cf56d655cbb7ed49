package io.github.mxe2ee.crypto;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CurveKeysTest {
  private static final String RFC8032_SEED =
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  private static final String RFC8032_PUBLIC =
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  private static final String RFC8032_SIG =
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
          + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

  @Test
  void x25519_rfc7748Section6_1() {
    Curve25519SecretKey alice =
        Curve25519SecretKey.fromBytes(
            hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    Curve25519SecretKey bob =
        Curve25519SecretKey.fromBytes(
            hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    assertEquals(
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        hex(alice.publicKey().toBytes()));
    assertEquals(
        "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
        hex(bob.publicKey().toBytes()));
    String shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    assertEquals(shared, hex(alice.diffieHellman(bob.publicKey())));
    assertEquals(shared, hex(bob.diffieHellman(alice.publicKey())));
  }

  @Test
  void x25519_rejectsNonContributoryResult() {
    Curve25519SecretKey key = Curve25519SecretKey.generate(new SecureRandom());
    Curve25519PublicKey zero = Curve25519PublicKey.fromBytes(new byte[32]);
    assertThrows(CryptoException.class, () -> key.diffieHellman(zero));
    byte[] one = new byte[32];
    one[0] = 1;
    assertThrows(
        CryptoException.class, () -> key.diffieHellman(Curve25519PublicKey.fromBytes(one)));
  }

  @Test
  void keys_rejectWrongLengths() {
    assertThrows(DecodeException.class, () -> Curve25519PublicKey.fromBytes(new byte[31]));
    assertThrows(DecodeException.class, () -> Curve25519SecretKey.fromBytes(new byte[33]));
    assertThrows(DecodeException.class, () -> Ed25519PublicKey.fromBytes(new byte[31]));
    assertThrows(DecodeException.class, () -> Ed25519SecretKey.fromSeed(new byte[64]));
    assertThrows(DecodeException.class, () -> Ed25519SecretKey.fromExpanded(new byte[32]));
    assertThrows(DecodeException.class, () -> Ed25519Signature.fromBytes(new byte[63]));
    assertThrows(DecodeException.class, () -> Curve25519PublicKey.fromBase64("AAAA"));
  }

  @Test
  void ed25519_rfc8032Test1() {
    Ed25519SecretKey key = Ed25519SecretKey.fromSeed(hex(RFC8032_SEED));
    assertEquals(RFC8032_PUBLIC, hex(key.publicKey().toBytes()));
    Ed25519Signature sig = key.sign(new byte[0]);
    assertEquals(RFC8032_SIG, hex(sig.toBytes()));
    assertTrue(key.publicKey().verify(new byte[0], sig));
    assertFalse(key.publicKey().verify(new byte[] {0}, sig));
  }

  @Test
  void ed25519_expandedFormSignsLikeTheSeed() throws Exception {
    byte[] expanded = expand(hex(RFC8032_SEED));
    Ed25519SecretKey key = Ed25519SecretKey.fromExpanded(expanded);
    assertTrue(key.isExpanded());
    assertEquals(RFC8032_PUBLIC, hex(key.publicKey().toBytes()));
    assertEquals(RFC8032_SIG, hex(key.sign(new byte[0]).toBytes()));

    SecureRandom random = new SecureRandom();
    for (int i = 0; i < 5; i++) {
      Ed25519SecretKey seeded = Ed25519SecretKey.generate(random);
      Ed25519SecretKey same = Ed25519SecretKey.fromExpanded(expand(seeded.exposeSecretBytes()));
      byte[] message = ("message " + i).getBytes(StandardCharsets.UTF_8);
      assertEquals(seeded.publicKey(), same.publicKey(), "key " + i);
      assertEquals(seeded.sign(message), same.sign(message), "key " + i);
    }
  }

  @Test
  void ed25519_rejectsTamperedSignature() {
    Ed25519SecretKey key = Ed25519SecretKey.generate(new SecureRandom());
    byte[] message = {1, 2, 3};
    byte[] sig = key.sign(message).toBytes();
    for (int i = 0; i < sig.length; i += 7) {
      byte[] bad = sig.clone();
      bad[i] ^= 0x01;
      assertFalse(key.publicKey().verify(message, Ed25519Signature.fromBytes(bad)), "byte " + i);
    }
  }

  @Test
  void secretKeys_neverPrintTheirBytes() {
    Ed25519SecretKey ed = Ed25519SecretKey.fromSeed(hex(RFC8032_SEED));
    Curve25519SecretKey cv = Curve25519SecretKey.fromBytes(hex(RFC8032_SEED));
    String seedB64 = UnpaddedBase64.encode(hex(RFC8032_SEED));
    for (String s : new String[] {ed.toString(), cv.toString()}) {
      assertFalse(s.contains(RFC8032_SEED), s);
      assertFalse(s.contains(seedB64), s);
    }
  }

  @Test
  void publicKeys_roundTripBase64AndCompareByValue() {
    Curve25519PublicKey a = Curve25519SecretKey.generate(new SecureRandom()).publicKey();
    assertEquals(a, Curve25519PublicKey.fromBase64(a.toBase64()));
    assertEquals(a.hashCode(), Curve25519PublicKey.fromBase64(a.toBase64()).hashCode());
    assertArrayEquals(a.toBytes(), Curve25519PublicKey.fromBase64(a.toString()).toBytes());
  }

  static byte[] expand(byte[] seed) throws Exception {
    byte[] h = MessageDigest.getInstance("SHA-512").digest(seed);
    h[0] &= (byte) 248;
    h[31] &= 127;
    h[31] |= 64;
    return Arrays.copyOf(h, 64);
  }
}
