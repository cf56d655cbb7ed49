package io.github.mxe2ee.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.crypto.Aes256Ctr;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.HmacSha256;
import io.github.mxe2ee.crypto.Pbkdf2;
import io.github.mxe2ee.export.KeyExportDecodeException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Format, tolerance and rejection rules of {@link KeyExportFile}, with small PBKDF2 counts. */
class KeyExportFileTest {
  static final int ROUNDS = 10;
  static final char[] PASSPHRASE = "correct horse battery staple".toCharArray();
  static final byte[] PLAIN =
      "[{\"note\":\"this payload spans more than one AES block and several lines\"}]"
          .repeat(4)
          .getBytes(StandardCharsets.UTF_8);

  /** A SecureRandom that returns a fixed byte pattern, so tests can see what was drawn. */
  static SecureRandom fixedRandom(int fill) {
    return new SecureRandom() {
      private static final long serialVersionUID = 1L;

      @Override
      public void nextBytes(byte[] bytes) {
        Arrays.fill(bytes, (byte) fill);
      }
    };
  }

  static String sample() {
    return KeyExportFile.encrypt(PLAIN, PASSPHRASE, ROUNDS, new SecureRandom());
  }

  static String rearmor(byte[] body) {
    return KeyExportFile.armor(body);
  }

  private static KeyExportDecodeException decodeFailure(String armored, Reason reason) {
    KeyExportDecodeException e =
        assertThrows(
            KeyExportDecodeException.class, () -> KeyExportFile.decrypt(armored, PASSPHRASE));
    assertEquals(reason, e.reason(), e.getMessage());
    assertEquals("decode", e.kind());
    return e;
  }

  // ------------------------------------------------------------------ writing

  @Test
  void encrypt_writesElementArmor() {
    String armored = sample();
    String[] lines = armored.split("\n", -1);
    assertEquals(KeyExportFile.BEGIN_LINE, lines[0]);
    assertEquals(KeyExportFile.END_LINE, lines[lines.length - 2]);
    assertEquals("", lines[lines.length - 1], "ends with a newline");
    int bodyLength = KeyExportFile.MIN_LENGTH + PLAIN.length;
    int fullLines = bodyLength / KeyExportFile.BYTES_PER_LINE;
    for (int i = 1; i <= fullLines; i++) {
      assertEquals(128, lines[i].length(), "line " + i);
    }
    String last = lines[lines.length - 3];
    assertEquals(0, last.length() % 4, "padded base64");
    byte[] body =
        Base64.getDecoder().decode(String.join("", Arrays.copyOfRange(lines, 1, lines.length - 2)));
    assertEquals(bodyLength, body.length);
    assertEquals(1, body[0]);
    assertEquals(ROUNDS, ByteBuffer.wrap(body, 33, 4).getInt());
  }

  @Test
  void encrypt_usesFreshSaltAndIvWithBit63Clear() {
    byte[] body =
        KeyExportFile.unarmor(KeyExportFile.encrypt(PLAIN, PASSPHRASE, ROUNDS, fixedRandom(0xff)));
    byte[] salt = Arrays.copyOfRange(body, 1, 17);
    byte[] iv = Arrays.copyOfRange(body, 17, 33);
    byte[] expectedIv = new byte[16];
    Arrays.fill(expectedIv, (byte) 0xff);
    expectedIv[8] = 0x7f;
    assertArrayEquals(
        new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, salt);
    assertArrayEquals(expectedIv, iv);
    byte[] a = KeyExportFile.unarmor(sample());
    byte[] b = KeyExportFile.unarmor(sample());
    assertFalse(Arrays.equals(Arrays.copyOfRange(a, 1, 33), Arrays.copyOfRange(b, 1, 33)));
  }

  @Test
  void encrypt_matchesAnIndependentComputationOfTheSpec() {
    // Derive K || K' and the MAC with the primitives directly, passphrase as UTF-8.
    char[] passphrase = "pässwörd ✓ 🔑".toCharArray();
    byte[] body =
        KeyExportFile.unarmor(KeyExportFile.encrypt(PLAIN, passphrase, 3, new SecureRandom()));
    byte[] keys =
        Pbkdf2.sha512(
            new String(passphrase).getBytes(StandardCharsets.UTF_8),
            Arrays.copyOfRange(body, 1, 17),
            3,
            64);
    int macAt = body.length - 32;
    assertArrayEquals(
        HmacSha256.mac(Arrays.copyOfRange(keys, 32, 64), Arrays.copyOfRange(body, 0, macAt)),
        Arrays.copyOfRange(body, macAt, body.length));
    assertArrayEquals(
        PLAIN,
        Aes256Ctr.apply(
            Arrays.copyOf(keys, 32),
            Arrays.copyOfRange(body, 17, 33),
            Arrays.copyOfRange(body, 37, macAt)));
  }

  @Test
  void roundTrip_emptyAndLargePayloads() {
    for (int size : new int[] {0, 1, 15, 16, 17, 95, 96, 97, 100_000}) {
      byte[] plain = new byte[size];
      new Random(size).nextBytes(plain);
      String armored = KeyExportFile.encrypt(plain, PASSPHRASE, 1, new SecureRandom());
      assertArrayEquals(plain, KeyExportFile.decrypt(armored, PASSPHRASE), "size " + size);
    }
  }

  @Test
  void encrypt_refusesBadArguments() {
    SecureRandom random = new SecureRandom();
    assertThrows(
        IllegalArgumentException.class,
        () -> KeyExportFile.encrypt(PLAIN, new char[0], ROUNDS, random));
    assertThrows(
        IllegalArgumentException.class, () -> KeyExportFile.encrypt(PLAIN, PASSPHRASE, 0, random));
    assertThrows(
        IllegalArgumentException.class, () -> KeyExportFile.encrypt(PLAIN, PASSPHRASE, -1, random));
    assertThrows(
        IllegalArgumentException.class,
        () -> KeyExportFile.encrypt(PLAIN, PASSPHRASE, KeyExportFile.MAX_ROUNDS + 1, random));
    IllegalArgumentException surrogate =
        assertThrows(
            IllegalArgumentException.class,
            () -> KeyExportFile.encrypt(PLAIN, new char[] {'a', '\ud800', 'b'}, ROUNDS, random));
    assertFalse(surrogate.getMessage().contains("a\ud800b"));
    assertThrows(
        NullPointerException.class, () -> KeyExportFile.encrypt(null, PASSPHRASE, ROUNDS, random));
    assertThrows(
        NullPointerException.class, () -> KeyExportFile.encrypt(PLAIN, null, ROUNDS, random));
    assertThrows(
        NullPointerException.class, () -> KeyExportFile.encrypt(PLAIN, PASSPHRASE, ROUNDS, null));
  }

  @Test
  void encrypt_leavesArgumentsUntouched() {
    byte[] plain = PLAIN.clone();
    char[] passphrase = PASSPHRASE.clone();
    KeyExportFile.encrypt(plain, passphrase, ROUNDS, new SecureRandom());
    assertArrayEquals(PLAIN, plain);
    assertArrayEquals(PASSPHRASE, passphrase);
  }

  @Test
  void defaults_matchElementAndTheSpec() {
    assertEquals(500_000, KeyExportFile.DEFAULT_ROUNDS);
    assertTrue(KeyExportFile.DEFAULT_ROUNDS >= KeyExportFile.SPEC_RECOMMENDED_MIN_ROUNDS);
    assertTrue(KeyExportFile.MAX_ROUNDS >= 10 * KeyExportFile.DEFAULT_ROUNDS);
    assertEquals(69, KeyExportFile.MIN_LENGTH);
  }

  // ------------------------------------------------------------------ reading, tolerated

  @Test
  void decrypt_toleratesLayoutVariants() {
    String armored = sample();
    String body =
        armored.substring(
            KeyExportFile.BEGIN_LINE.length() + 1,
            armored.length() - KeyExportFile.END_LINE.length() - 1);
    String flat = body.replace("\n", "");
    String unpadded = flat.replace("=", "");
    StringBuilder narrow = new StringBuilder();
    for (int i = 0; i < flat.length(); i += 71) {
      narrow.append(flat, i, Math.min(flat.length(), i + 71)).append('\n');
    }
    List<String> variants =
        List.of(
            armored,
            armored.strip(),
            armored.replace("\n", "\r\n"),
            "\uFEFF" + armored,
            "Exported by a bot for Alice\n\n" + armored + "\ntrailing notes\n",
            "  " + KeyExportFile.BEGIN_LINE + "  \n" + flat + "\n\t" + KeyExportFile.END_LINE,
            KeyExportFile.BEGIN_LINE + "\n" + unpadded + "\n" + KeyExportFile.END_LINE,
            KeyExportFile.BEGIN_LINE + "\n" + narrow + KeyExportFile.END_LINE,
            KeyExportFile.BEGIN_LINE
                + "\n"
                + flat.replaceAll("(.{4})", "$1 ")
                + "\n"
                + KeyExportFile.END_LINE);
    for (int i = 0; i < variants.size(); i++) {
      assertArrayEquals(PLAIN, KeyExportFile.decrypt(variants.get(i), PASSPHRASE), "variant " + i);
    }
  }

  // ------------------------------------------------------------------ reading, rejected

  @Test
  void decrypt_rejectsMissingOrGarbledArmor() {
    String armored = sample();
    String body =
        armored.substring(
            KeyExportFile.BEGIN_LINE.length() + 1,
            armored.length() - KeyExportFile.END_LINE.length() - 1);
    decodeFailure("", Reason.ARMOR);
    decodeFailure(body, Reason.ARMOR);
    decodeFailure(armored.replace("BEGIN", "BEGINS"), Reason.ARMOR);
    decodeFailure(armored.replace("END MEGOLM", "END MEGALM"), Reason.ARMOR);
    decodeFailure(armored.substring(0, armored.indexOf(KeyExportFile.END_LINE)), Reason.ARMOR);
    decodeFailure(KeyExportFile.BEGIN_LINE, Reason.ARMOR);
    decodeFailure(
        KeyExportFile.END_LINE + "\n" + body + KeyExportFile.BEGIN_LINE + "\n", Reason.ARMOR);
    decodeFailure("x" + armored.replace("\n", " "), Reason.ARMOR);
    decodeFailure(
        KeyExportFile.BEGIN_LINE + " " + body + "\n" + KeyExportFile.END_LINE, Reason.ARMOR);
  }

  @Test
  void decrypt_rejectsBadBase64() {
    String armored = sample();
    int at = KeyExportFile.BEGIN_LINE.length() + 10;
    for (String bad : List.of("!", "-", "_", "é", "=")) {
      decodeFailure(armored.substring(0, at) + bad + armored.substring(at + 1), Reason.BASE64);
    }
    byte[] body = KeyExportFile.unarmor(armored);
    String b64 = Base64.getEncoder().encodeToString(body) + "A";
    decodeFailure(
        KeyExportFile.BEGIN_LINE + "\n" + b64 + "\n" + KeyExportFile.END_LINE, Reason.BASE64);
  }

  @Test
  void decrypt_rejectsTruncatedBodies() {
    byte[] body = KeyExportFile.unarmor(sample());
    decodeFailure(KeyExportFile.BEGIN_LINE + "\n" + KeyExportFile.END_LINE, Reason.TOO_SHORT);
    for (int length = 1; length < KeyExportFile.MIN_LENGTH; length++) {
      decodeFailure(rearmor(Arrays.copyOf(body, length)), Reason.TOO_SHORT);
    }
    for (int length = KeyExportFile.MIN_LENGTH; length < body.length; length += 7) {
      int n = length;
      assertThrows(
          CryptoException.class,
          () -> KeyExportFile.decrypt(rearmor(Arrays.copyOf(body, n)), PASSPHRASE),
          "truncated to " + n);
    }
  }

  @Test
  void decrypt_rejectsOtherVersions() {
    byte[] body = KeyExportFile.unarmor(sample());
    for (int version : new int[] {0, 2, 0x80, 0xff}) {
      body[0] = (byte) version;
      KeyExportDecodeException e = decodeFailure(rearmor(body), Reason.UNSUPPORTED_VERSION);
      assertTrue(e.getMessage().contains("expected 1 but found " + version), e.getMessage());
    }
  }

  @Test
  void decrypt_rejectsRoundsOutOfRangeBeforeDerivingKeys() {
    byte[] body = KeyExportFile.unarmor(sample());
    for (long rounds :
        new long[] {0, KeyExportFile.MAX_ROUNDS + 1L, 0x7fffffffL, 0x80000000L, 0xffffffffL}) {
      ByteBuffer.wrap(body, 33, 4).putInt((int) rounds);
      long start = System.nanoTime();
      KeyExportDecodeException e = decodeFailure(rearmor(body), Reason.ROUNDS);
      assertTrue(e.getMessage().contains("found " + rounds), e.getMessage());
      assertTrue(System.nanoTime() - start < 1_000_000_000L, "refused without running PBKDF2");
    }
  }

  @Test
  void decrypt_rejectsAWrongPassphraseWithoutLeakingIt() {
    String armored = sample();
    for (String wrong :
        List.of("", "correct horse battery stapl", "Correct horse battery staple")) {
      CryptoException e =
          assertThrows(
              CryptoException.class, () -> KeyExportFile.decrypt(armored, wrong.toCharArray()));
      assertEquals("crypto", e.kind());
      assertFalse(e.getMessage().contains("horse"));
    }
  }

  @Test
  void decrypt_rejectsEveryFlippedBitOfSaltIvRoundsCiphertextAndMac() {
    byte[] body =
        KeyExportFile.unarmor(KeyExportFile.encrypt(PLAIN, PASSPHRASE, 1, new SecureRandom()));
    int checked = 0;
    for (int i = 1; i < body.length; i++) {
      for (int bit = 0; bit < 8; bit += (i < 37 || i >= body.length - 32) ? 1 : 5) {
        if (i >= 33 && i < 36) {
          continue; // high bytes of the round count: covered by the ROUNDS test (slow PBKDF2)
        }
        byte[] copy = body.clone();
        copy[i] ^= (byte) (1 << bit);
        String altered = rearmor(copy);
        Mxe2eeException e =
            assertThrows(
                Mxe2eeException.class,
                () -> KeyExportFile.decrypt(altered, PASSPHRASE),
                "byte " + i + " bit " + bit);
        boolean expected =
            e instanceof CryptoException
                || (e instanceof KeyExportDecodeException d && d.reason() == Reason.ROUNDS);
        assertTrue(expected, "byte " + i + " bit " + bit + ": " + e);
        checked++;
      }
    }
    assertTrue(checked > 700, "checked " + checked);
  }

  @Test
  void decrypt_leavesArgumentsUntouched() {
    String armored = sample();
    char[] passphrase = PASSPHRASE.clone();
    KeyExportFile.decrypt(armored, passphrase);
    assertArrayEquals(PASSPHRASE, passphrase);
  }
}
