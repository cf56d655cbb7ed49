package io.github.mxe2ee.export;

import io.github.mxe2ee.crypto.Aes256Ctr64;
import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.HmacSha256;
import io.github.mxe2ee.crypto.Pbkdf2;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.export.KeyExportDecodeException.Reason;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Encrypts and decrypts Megolm session key export files: the passphrase-protected, armored files
 * that Element and other clients write with "Export E2E room keys" and read with "Import E2E room
 * keys".
 *
 * <p>Spec: {@code
 * shared/spec/matrix-spec/content/client-server-api/modules/end_to_end_encryption.md}, "Key
 * exports" and "Key export format". The armored text is
 *
 * <pre>
 * -----BEGIN MEGOLM SESSION DATA-----
 * base64 of the binary body, in lines of 128 characters
 * -----END MEGOLM SESSION DATA-----
 * </pre>
 *
 * and the binary body is
 *
 * <pre>
 * +---------+------+------+--------+---------------------+----------+
 * | version | salt |  IV  | rounds | AES-256-CTR(K, IV,  | HMAC-    |
 * |  0x01   |  S   |      | N (BE) |   UTF-8 JSON array) | SHA-256  |
 * +---------+------+------+--------+---------------------+----------+
 * 0         1      17     33       37                  len-32       len   bytes
 *
 * K || K' = PBKDF2-HMAC-SHA-512(UTF-8 passphrase, S, N, 64 bytes)
 * K  (bytes 0..31)  is the AES-256-CTR key; the counter block starts at IV and
 *                   increments its low 64 bits only (WebCrypto "length: 64")
 * K' (bytes 32..63) is the HMAC-SHA-256 key; the MAC covers bytes 0..len-33
 * </pre>
 *
 * <p>Decryption checks, in order: the armor lines, the base64, the version byte, the length, the
 * round count ({@code 1..}{@link #MAX_ROUNDS}), and then the MAC in constant time; only a file
 * whose MAC verifies is decrypted. Everything before the MAC check throws {@link
 * KeyExportDecodeException} with a {@link KeyExportDecodeException.Reason}; a wrong passphrase and
 * an altered file are indistinguishable by design and both throw {@link CryptoException}.
 *
 * <p>Armor parsing follows Element: lines before the {@code BEGIN} line and after the {@code END}
 * line are ignored, as is a leading byte order mark; each armor line may carry surrounding
 * whitespace, all whitespace (including {@code \r\n} line ends) inside the body is ignored, the
 * base64 may be padded or not, and the final newline is optional.
 *
 * <p>Passphrases are {@code char[]} so callers can wipe them; they are encoded as UTF-8, like
 * Element's {@code TextEncoder}. A passphrase with an unpaired UTF-16 surrogate cannot be encoded
 * and is refused with {@link IllegalArgumentException}.
 *
 * <p>Contract: stateless and thread-safe; arguments must not be null (a {@link
 * NullPointerException} names the argument). The passphrase, derived keys and plaintext never
 * appear in exception messages; intermediate copies of the derived keys and passphrase bytes are
 * wiped before returning. Key derivation is deliberately slow: at {@link #DEFAULT_ROUNDS} expect
 * about half a second of one core per call, so never call this on an event loop.
 */
public final class KeyExportFile {
  /** First line of the armor. */
  public static final String BEGIN_LINE = "-----BEGIN MEGOLM SESSION DATA-----";

  /** Last line of the armor. */
  public static final String END_LINE = "-----END MEGOLM SESSION DATA-----";

  /** The only format version the spec defines. */
  public static final int VERSION = 1;

  /** Length of the PBKDF2 salt S. */
  public static final int SALT_LENGTH = 16;

  /** Length of the AES-CTR initial counter block. */
  public static final int IV_LENGTH = 16;

  /** Length of the HMAC-SHA-256 trailer. */
  public static final int MAC_LENGTH = HmacSha256.LENGTH;

  /** Offset of the ciphertext: version, salt, IV and the 4-byte round count come before it. */
  public static final int HEADER_LENGTH = 1 + SALT_LENGTH + IV_LENGTH + 4;

  /** Shortest valid body: a header, an empty ciphertext and the MAC. */
  public static final int MIN_LENGTH = HEADER_LENGTH + MAC_LENGTH;

  /**
   * Round count used when the caller does not choose one: 500,000, the value Element's exporter
   * uses, five times the spec's recommended minimum of {@link #SPEC_RECOMMENDED_MIN_ROUNDS}.
   */
  public static final int DEFAULT_ROUNDS = 500_000;

  /** The spec says N "should be at least 100,000"; lower values are allowed but weak. */
  public static final int SPEC_RECOMMENDED_MIN_ROUNDS = 100_000;

  /**
   * Highest round count accepted, on import and export. The field is an unsigned 32-bit integer, so
   * a hostile or corrupt file could ask for 4.3 billion PBKDF2-HMAC-SHA-512 iterations: over an
   * hour of one core before the MAC check could even reject it. Ten million is 20 times Element's
   * {@link #DEFAULT_ROUNDS} (a few seconds of work), far above any round count a client writes, and
   * bounds the cost of opening an untrusted file.
   */
  public static final int MAX_ROUNDS = 10_000_000;

  /**
   * Binary bytes per base64 line when writing: 96 bytes give 128 characters, as Element writes. A
   * multiple of 3, so every line but the last is unpadded base64 on its own.
   */
  public static final int BYTES_PER_LINE = 96;

  /** A leading byte order mark, which Windows editors add on save, is skipped. */
  private static final String BYTE_ORDER_MARK = "\uFEFF";

  private static final int KEY_LENGTH = 32;
  private static final int SALT_OFFSET = 1;
  private static final int IV_OFFSET = SALT_OFFSET + SALT_LENGTH;
  private static final int ROUNDS_OFFSET = IV_OFFSET + IV_LENGTH;
  private static final int BLOCK = 16;

  private KeyExportFile() {}

  /**
   * Encrypts {@code payload} with {@link #DEFAULT_ROUNDS}.
   *
   * @see #encrypt(byte[], char[], int, SecureRandom)
   */
  public static String encrypt(byte[] payload, char[] passphrase, SecureRandom random) {
    return encrypt(payload, passphrase, DEFAULT_ROUNDS, random);
  }

  /**
   * Encrypts {@code payload} (normally the UTF-8 JSON array of {@link ExportedRoomKey} entries)
   * into an armored key export file, with a fresh random salt and IV (bit 63 of the IV cleared, as
   * the spec requires).
   *
   * @param payload bytes to protect; not retained
   * @param passphrase non-empty; not retained or modified
   * @param rounds PBKDF2 iterations, 1..{@link #MAX_ROUNDS}; the spec recommends at least {@link
   *     #SPEC_RECOMMENDED_MIN_ROUNDS}
   * @param random source of the salt and IV
   * @return the armored text, ending with a newline
   * @throws IllegalArgumentException if the passphrase is empty or not encodable, or {@code rounds}
   *     is out of range
   */
  public static String encrypt(byte[] payload, char[] passphrase, int rounds, SecureRandom random) {
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(passphrase, "passphrase");
    Objects.requireNonNull(random, "random");
    if (passphrase.length == 0) {
      throw new IllegalArgumentException("passphrase must not be empty");
    }
    requireRounds(rounds);
    byte[] salt = new byte[SALT_LENGTH];
    byte[] iv = new byte[IV_LENGTH];
    random.nextBytes(salt);
    random.nextBytes(iv);
    iv[8] &= 0x7f;
    return encrypt(payload, passphrase, salt, iv, rounds);
  }

  /**
   * Encrypts with a given salt and IV, used as they are (bit 63 of the IV is not cleared), for
   * known-answer tests.
   */
  static String encrypt(byte[] payload, char[] passphrase, byte[] salt, byte[] iv, int rounds) {
    DecodeException.requireLength("key export salt", SALT_LENGTH, salt.length);
    DecodeException.requireLength("key export IV", IV_LENGTH, iv.length);
    requireRounds(rounds);
    byte[] keys = deriveKeys(passphrase, salt, rounds);
    byte[] aesKey = aesKey(keys);
    byte[] macKey = macKey(keys);
    try {
      byte[] body = new byte[MIN_LENGTH + payload.length];
      body[0] = VERSION;
      System.arraycopy(salt, 0, body, SALT_OFFSET, SALT_LENGTH);
      System.arraycopy(iv, 0, body, IV_OFFSET, IV_LENGTH);
      ByteBuffer.wrap(body, ROUNDS_OFFSET, 4).putInt(rounds);
      byte[] ciphertext = Aes256Ctr64.apply(aesKey, iv, payload);
      System.arraycopy(ciphertext, 0, body, HEADER_LENGTH, ciphertext.length);
      byte[] mac = HmacSha256.mac(macKey, body, 0, HEADER_LENGTH + payload.length);
      System.arraycopy(mac, 0, body, HEADER_LENGTH + payload.length, MAC_LENGTH);
      return armor(body);
    } finally {
      wipe(keys, aesKey, macKey);
    }
  }

  /**
   * Checks and decrypts an armored key export file.
   *
   * @param armored the file's text
   * @param passphrase the passphrase it was exported with; not retained or modified
   * @return the decrypted payload (a new array holding secret material: wipe it when done)
   * @throws KeyExportDecodeException if the armor, base64, version, length or round count is bad
   * @throws CryptoException if the MAC does not verify: wrong passphrase or altered file
   * @throws IllegalArgumentException if the passphrase has an unpaired surrogate
   */
  public static byte[] decrypt(String armored, char[] passphrase) {
    Objects.requireNonNull(armored, "armored");
    Objects.requireNonNull(passphrase, "passphrase");
    byte[] body = unarmor(armored);
    if (body.length == 0) {
      throw new KeyExportDecodeException(
          Reason.TOO_SHORT,
          "key export body: expected at least " + MIN_LENGTH + " bytes but found 0 bytes");
    }
    int version = body[0] & 0xff;
    if (version != VERSION) {
      throw new KeyExportDecodeException(
          Reason.UNSUPPORTED_VERSION,
          "key export version: expected " + VERSION + " but found " + version);
    }
    if (body.length < MIN_LENGTH) {
      throw new KeyExportDecodeException(
          Reason.TOO_SHORT,
          "key export body: expected at least "
              + MIN_LENGTH
              + " bytes but found "
              + body.length
              + " bytes");
    }
    long rounds = ByteBuffer.wrap(body, ROUNDS_OFFSET, 4).getInt() & 0xffffffffL;
    if (rounds < 1 || rounds > MAX_ROUNDS) {
      throw new KeyExportDecodeException(
          Reason.ROUNDS,
          "key export PBKDF2 rounds: expected 1.." + MAX_ROUNDS + " but found " + rounds);
    }
    byte[] salt = Arrays.copyOfRange(body, SALT_OFFSET, SALT_OFFSET + SALT_LENGTH);
    byte[] iv = Arrays.copyOfRange(body, IV_OFFSET, IV_OFFSET + IV_LENGTH);
    int macOffset = body.length - MAC_LENGTH;
    byte[] keys = deriveKeys(passphrase, salt, (int) rounds);
    byte[] aesKey = aesKey(keys);
    byte[] macKey = macKey(keys);
    try {
      byte[] expected = HmacSha256.mac(macKey, body, 0, macOffset);
      byte[] actual = Arrays.copyOfRange(body, macOffset, body.length);
      if (!ConstantTime.equals(expected, actual)) {
        throw new CryptoException(
            "key export MAC does not verify: wrong passphrase or altered file");
      }
      return Aes256Ctr64.apply(aesKey, iv, Arrays.copyOfRange(body, HEADER_LENGTH, macOffset));
    } finally {
      wipe(keys, aesKey, macKey);
    }
  }

  /**
   * Serializes {@code keys} as the spec's JSON array and encrypts it.
   *
   * @param keys the sessions to export (may be empty)
   * @param passphrase non-empty; not retained or modified
   * @param rounds PBKDF2 iterations, 1..{@link #MAX_ROUNDS} (use {@link #DEFAULT_ROUNDS})
   * @param random source of the salt and IV
   * @return the armored file text
   * @throws IllegalArgumentException as {@link #encrypt(byte[], char[], int, SecureRandom)}
   */
  public static String exportRoomKeys(
      List<ExportedRoomKey> keys, char[] passphrase, int rounds, SecureRandom random) {
    byte[] json = ExportedRoomKey.toJsonArray(keys);
    try {
      return encrypt(json, passphrase, rounds, random);
    } finally {
      Arrays.fill(json, (byte) 0);
    }
  }

  /**
   * Decrypts a key export file and parses its entries; entries that are malformed or use another
   * algorithm are reported in {@link RoomKeyParseResult#rejected()} without failing the rest.
   *
   * @throws KeyExportDecodeException as {@link #decrypt}, or with {@link Reason#PAYLOAD} if the
   *     decrypted payload is not a JSON array
   * @throws CryptoException if the MAC does not verify: wrong passphrase or altered file
   */
  public static RoomKeyParseResult importRoomKeys(String armored, char[] passphrase) {
    byte[] json = decrypt(armored, passphrase);
    try {
      return ExportedRoomKey.parseList(json);
    } finally {
      Arrays.fill(json, (byte) 0);
    }
  }

  /**
   * Parses the armored text into the binary body.
   *
   * @throws KeyExportDecodeException with {@link Reason#ARMOR} or {@link Reason#BASE64}
   */
  static byte[] unarmor(String armored) {
    int begin = findLine(armored, BEGIN_LINE, armored.startsWith(BYTE_ORDER_MARK) ? 1 : 0);
    if (begin < 0) {
      throw new KeyExportDecodeException(
          Reason.ARMOR, "key export: expected a line '" + BEGIN_LINE + "' but found none");
    }
    int bodyStart = lineEnd(armored, begin) + 1;
    int end = bodyStart > armored.length() ? -1 : findLine(armored, END_LINE, bodyStart);
    if (end < 0) {
      throw new KeyExportDecodeException(
          Reason.ARMOR,
          "key export: expected a line '" + END_LINE + "' after the BEGIN line but found none");
    }
    StringBuilder base64 = new StringBuilder(end - bodyStart);
    for (int i = bodyStart; i < end; i++) {
      char c = armored.charAt(i);
      if (!isWhitespace(c)) {
        base64.append(c);
      }
    }
    try {
      return UnpaddedBase64.decode(base64.toString());
    } catch (DecodeException e) {
      throw new KeyExportDecodeException(
          Reason.BASE64,
          "key export body: expected base64 between the armor lines: " + e.getMessage(),
          e);
    }
  }

  /** Wraps {@code body} in the armor with padded base64 lines of {@link #BYTES_PER_LINE}. */
  static String armor(byte[] body) {
    Base64.Encoder encoder = Base64.getEncoder();
    StringBuilder out =
        new StringBuilder(BEGIN_LINE.length() + END_LINE.length() + body.length * 4 / 3 + 64);
    out.append(BEGIN_LINE).append('\n');
    for (int off = 0; off < body.length; off += BYTES_PER_LINE) {
      int len = Math.min(BYTES_PER_LINE, body.length - off);
      out.append(encoder.encodeToString(Arrays.copyOfRange(body, off, off + len))).append('\n');
    }
    return out.append(END_LINE).append('\n').toString();
  }

  /**
   * Start of the first line at or after {@code from} whose text, without surrounding whitespace, is
   * {@code wanted}; -1 if there is none.
   */
  private static int findLine(String text, String wanted, int from) {
    int start = from;
    while (start <= text.length()) {
      int end = lineEnd(text, start);
      if (text.substring(start, end).strip().equals(wanted)) {
        return start;
      }
      start = end + 1;
    }
    return -1;
  }

  /** Index of the {@code '\n'} ending the line that starts at {@code start}, or the text length. */
  private static int lineEnd(String text, int start) {
    int newline = text.indexOf('\n', start);
    return newline < 0 ? text.length() : newline;
  }

  private static boolean isWhitespace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b;
  }

  private static void requireRounds(int rounds) {
    if (rounds < 1 || rounds > MAX_ROUNDS) {
      throw new IllegalArgumentException(
          "key export PBKDF2 rounds: expected 1.." + MAX_ROUNDS + " but got " + rounds);
    }
  }

  /** K || K', 64 bytes; the caller wipes it. */
  private static byte[] deriveKeys(char[] passphrase, byte[] salt, int rounds) {
    byte[] password = utf8(passphrase);
    try {
      return Pbkdf2.sha512(password, salt, rounds, 2 * KEY_LENGTH);
    } finally {
      Arrays.fill(password, (byte) 0);
    }
  }

  private static byte[] aesKey(byte[] keys) {
    return Arrays.copyOfRange(keys, 0, KEY_LENGTH);
  }

  private static byte[] macKey(byte[] keys) {
    return Arrays.copyOfRange(keys, KEY_LENGTH, 2 * KEY_LENGTH);
  }

  /** UTF-8 of the passphrase, refusing unpaired surrogates rather than guessing a replacement. */
  private static byte[] utf8(char[] passphrase) {
    CharsetEncoder encoder =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer encoded;
    try {
      encoded = encoder.encode(CharBuffer.wrap(passphrase));
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          "passphrase: expected valid UTF-16 text but found an unpaired surrogate");
    }
    byte[] out = new byte[encoded.remaining()];
    encoded.get(out);
    if (encoded.hasArray()) {
      Arrays.fill(encoded.array(), (byte) 0);
    }
    return out;
  }

  private static void wipe(byte[]... arrays) {
    for (byte[] a : arrays) {
      Arrays.fill(a, (byte) 0);
    }
  }
}
