package io.github.mxe2ee.crypto;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Known answers from the RFCs that define each primitive. */
class PrimitivesTest {
  @Test
  void sha256_rfc6234() {
    assertEquals(
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        hex(Sha256.hash("abc".getBytes(StandardCharsets.US_ASCII))));
  }

  @Test
  void hmacSha256_rfc4231Case2() {
    byte[] mac =
        HmacSha256.mac(
            "Jefe".getBytes(StandardCharsets.US_ASCII),
            "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII));
    assertEquals("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", hex(mac));
  }

  @Test
  void hmacSha256_emptyKeyEqualsZeroKey() {
    byte[] data = {1, 2, 3};
    assertArrayEquals(HmacSha256.mac(new byte[1], data), HmacSha256.mac(new byte[0], data));
  }

  @Test
  void hkdf_rfc5869Case1() {
    byte[] okm =
        Hkdf.sha256(
            hex("000102030405060708090a0b0c"),
            hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            hex("f0f1f2f3f4f5f6f7f8f9"),
            42);
    assertEquals(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
        hex(okm));
  }

  @Test
  void hkdf_rfc5869Case3_emptySaltAndInfo() {
    byte[] okm =
        Hkdf.sha256(null, hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), new byte[0], 42);
    assertEquals(
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
        hex(okm));
  }

  @Test
  void pbkdf2Sha512_knownAnswer() {
    // RFC 7914 section 11 does not cover SHA-512; this is the widely published vector
    // PBKDF2-HMAC-SHA512("password", "salt", 1, 64).
    byte[] out =
        Pbkdf2.sha512(
            "password".getBytes(StandardCharsets.US_ASCII),
            "salt".getBytes(StandardCharsets.US_ASCII),
            1,
            64);
    assertEquals(
        "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252"
            + "c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce",
        hex(out));
    byte[] two =
        Pbkdf2.sha512(
            "password".getBytes(StandardCharsets.US_ASCII),
            "salt".getBytes(StandardCharsets.US_ASCII),
            2,
            64);
    assertEquals(
        "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53c"
            + "f76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e",
        hex(two));
  }

  @Test
  void aesCbc_roundTripsAndPadsToBlocks() {
    byte[] key = new byte[32];
    byte[] iv = new byte[16];
    for (int len : new int[] {0, 1, 15, 16, 17, 200}) {
      byte[] plain = new byte[len];
      byte[] ct = Aes256Cbc.encrypt(key, iv, plain);
      assertEquals((len / 16 + 1) * 16, ct.length, "length " + len);
      assertArrayEquals(plain, Aes256Cbc.decrypt(key, iv, ct), "length " + len);
    }
  }

  @Test
  void aesCbc_nistSp800_38aF25() {
    // NIST SP 800-38A F.2.5 CBC-AES256.Encrypt, first block; PKCS#7 adds a second block.
    byte[] key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    byte[] iv = hex("000102030405060708090a0b0c0d0e0f");
    byte[] ct = Aes256Cbc.encrypt(key, iv, hex("6bc1bee22e409f96e93d7e117393172a"));
    assertEquals("f58c4c04d6e5f1ba779eabfb5f7bfbd6", hex(ct).substring(0, 32));
  }

  @Test
  void aesCbc_rejectsBadPaddingAndPartialBlocks() {
    byte[] key = new byte[32];
    byte[] iv = new byte[16];
    byte[] ct = Aes256Cbc.encrypt(key, iv, new byte[5]);
    ct[ct.length - 1] ^= 1;
    assertThrows(CryptoException.class, () -> Aes256Cbc.decrypt(key, iv, ct));
    assertThrows(CryptoException.class, () -> Aes256Cbc.decrypt(key, iv, new byte[15]));
    assertThrows(CryptoException.class, () -> Aes256Cbc.decrypt(key, iv, new byte[0]));
    assertThrows(DecodeException.class, () -> Aes256Cbc.encrypt(new byte[16], iv, ct));
    assertThrows(DecodeException.class, () -> Aes256Cbc.encrypt(key, new byte[8], ct));
  }

  @Test
  void aesCtr_nistSp800_38aF55() {
    byte[] key = hex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4");
    byte[] iv = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    byte[] plain = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    byte[] ct = Aes256Ctr.apply(key, iv, plain);
    assertEquals("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5", hex(ct));
    assertArrayEquals(plain, Aes256Ctr.apply(key, iv, ct));
  }

  @Test
  void constantTimeEquals() {
    assertTrue(ConstantTime.equals(new byte[] {1, 2}, new byte[] {1, 2}));
    assertFalse(ConstantTime.equals(new byte[] {1, 2}, new byte[] {1, 3}));
    assertFalse(ConstantTime.equals(new byte[] {1, 2}, new byte[] {1}));
    assertFalse(ConstantTime.equals(null, new byte[] {1}));
    assertTrue(ConstantTime.equals(null, null));
  }
}
