package io.github.mxe2ee.crypto;

import static io.github.mxe2ee.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.mxe2ee.Vectors;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PickleCipherTest {
  @Test
  void libolm_decryptsUpstreamPicklesAndReEncryptsIdentically() {
    int checked = 0;
    for (JsonNode c : Vectors.load("libolm_pickles.json").get("cases")) {
      JsonNode plainHex = c.path("derived").path("decrypted_plain_hex");
      if (!plainHex.isTextual() || !c.has("pickle_key_ascii")) {
        continue;
      }
      String id = c.get("name").textValue();
      PickleCipher cipher =
          PickleCipher.libolm(
              c.get("pickle_key_ascii").textValue().getBytes(StandardCharsets.UTF_8));
      byte[] plain = cipher.decrypt(c.get("pickle").textValue());
      assertEquals(plainHex.textValue(), hex(plain), id);
      assertEquals(c.get("pickle").textValue(), cipher.encrypt(plain), id);
      checked++;
    }
    assertNotEquals(0, checked, "no libolm pickle vector with a decrypted plaintext");
  }

  @Test
  void libolm_rejectsWrongKeyAndTamperingWithCryptoException() {
    JsonNode c = Vectors.load("libolm_pickles.json").get("cases").get(0);
    String pickle = c.get("pickle").textValue();
    assertThrows(
        CryptoException.class,
        () -> PickleCipher.libolm("wrong".getBytes(StandardCharsets.UTF_8)).decrypt(pickle));
    byte[] raw = UnpaddedBase64.decode(pickle);
    raw[3] ^= 1;
    PickleCipher cipher = PickleCipher.libolm("secret_key".getBytes(StandardCharsets.UTF_8));
    assertThrows(CryptoException.class, () -> cipher.decrypt(UnpaddedBase64.encode(raw)));
    assertThrows(DecodeException.class, () -> cipher.decrypt("AAAA"));
    assertThrows(DecodeException.class, () -> cipher.decrypt("not base64!"));
  }

  @Test
  void mxe2ee_roundTripsWithFreshIvEachTime() {
    byte[] key = new byte[32];
    key[0] = 7;
    PickleCipher cipher = PickleCipher.mxe2ee(key);
    byte[] plain = "state".getBytes(StandardCharsets.UTF_8);
    String a = cipher.encrypt(plain);
    String b = cipher.encrypt(plain);
    assertNotEquals(a, b);
    assertArrayEquals(plain, cipher.decrypt(a));
    assertArrayEquals(plain, PickleCipher.mxe2ee(key.clone()).decrypt(b));
  }

  @Test
  void mxe2ee_rejectsTamperingWrongKeyVersionAndLength() {
    byte[] key = new byte[32];
    PickleCipher cipher = PickleCipher.mxe2ee(key);
    String pickle = cipher.encrypt(new byte[40]);
    byte[] raw = UnpaddedBase64.decode(pickle);
    for (int i = 1; i < raw.length; i += 5) {
      byte[] bad = raw.clone();
      bad[i] ^= 0x20;
      assertThrows(
          CryptoException.class, () -> cipher.decrypt(UnpaddedBase64.encode(bad)), "byte " + i);
    }
    byte[] otherVersion = raw.clone();
    otherVersion[0] = 2;
    DecodeException e =
        assertThrows(
            DecodeException.class, () -> cipher.decrypt(UnpaddedBase64.encode(otherVersion)));
    assertEquals("mxe2ee pickle: expected version 1 but found 2", e.getMessage());
    byte[] otherKey = new byte[32];
    otherKey[31] = 1;
    assertThrows(CryptoException.class, () -> PickleCipher.mxe2ee(otherKey).decrypt(pickle));
    assertThrows(DecodeException.class, () -> cipher.decrypt(pickle.substring(0, 20)));
    assertThrows(DecodeException.class, () -> PickleCipher.mxe2ee(new byte[16]));
  }

  @Test
  void mxe2ee_reusedCipherFollowsTheKeyBytes() {
    byte[] key = new byte[32];
    key[0] = 1;
    byte[] other = new byte[32];
    other[0] = 2;
    byte[] plain = "session".getBytes(StandardCharsets.UTF_8);
    String underKey = PickleCipher.mxe2ee(key).encrypt(plain);
    // Same bytes in another array: the derived cipher is reused and reads the pickle.
    assertArrayEquals(plain, PickleCipher.mxe2ee(key.clone()).decrypt(underKey));
    // Alternating keys never hands out the other key's cipher.
    String underOther = PickleCipher.mxe2ee(other).encrypt(plain);
    assertThrows(CryptoException.class, () -> PickleCipher.mxe2ee(key).decrypt(underOther));
    assertThrows(CryptoException.class, () -> PickleCipher.mxe2ee(other).decrypt(underKey));
    // A caller changing its array after a derivation gets the cipher of the new bytes.
    byte[] mutable = key.clone();
    PickleCipher.mxe2ee(mutable);
    mutable[0] = 2;
    assertArrayEquals(plain, PickleCipher.mxe2ee(mutable).decrypt(underOther));
    assertThrows(CryptoException.class, () -> PickleCipher.mxe2ee(mutable).decrypt(underKey));
  }

  @Test
  void mxe2ee_roundTripsEveryPaddingLengthAcrossThreads() throws Exception {
    byte[] key = new byte[32];
    key[5] = 9;
    PickleCipher cipher = PickleCipher.mxe2ee(key);
    for (int n = 0; n <= 48; n++) {
      byte[] plain = new byte[n];
      java.util.Arrays.fill(plain, (byte) n);
      String pickle = cipher.encrypt(plain);
      // 1 version + 16 IV + padded ciphertext + 32 MAC, as the layout table says.
      assertEquals(1 + 16 + (n / 16 + 1) * 16 + 32, UnpaddedBase64.decode(pickle).length);
      assertArrayEquals(plain, cipher.decrypt(pickle), "length " + n);
      // Another thread (its own keyed AES and HMAC objects) reads it and writes for this one.
      String[] back = new String[1];
      byte[][] read = new byte[1][];
      Thread t =
          new Thread(
              () -> {
                read[0] = cipher.decrypt(pickle);
                back[0] = cipher.encrypt(plain);
              });
      t.start();
      t.join();
      assertArrayEquals(plain, read[0]);
      assertArrayEquals(plain, cipher.decrypt(back[0]));
    }
  }
}
