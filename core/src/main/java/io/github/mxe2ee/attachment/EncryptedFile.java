package io.github.mxe2ee.attachment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The spec's {@code EncryptedFile}: where an encrypted attachment lives and what decrypts it.
 * Immutable and thread-safe. Spec: {@code client-server-api/modules/end_to_end_encryption.md},
 * "Sending encrypted attachments", and the {@code EncryptedFile} definition ({@code
 * data/api/client-server/definitions/encrypted_file.yaml}).
 *
 * <p>JSON layout ({@link #toJson()} writes exactly these fields; {@link #fromJson} ignores others):
 *
 * <pre>
 * +-----------------+---------+-------------------------------------------------------------+
 * | field           | type    | value                                                       |
 * +-----------------+---------+-------------------------------------------------------------+
 * | url             | string  | mxc:// URI of the ciphertext (absent until withUrl)         |
 * | key.kty         | string  | "oct"                                                       |
 * | key.key_ops     | array   | ["encrypt", "decrypt"] (on input: must contain "decrypt")   |
 * | key.alg         | string  | "A256CTR"                                                   |
 * | key.k           | string  | AES-256 key, 32 bytes, URL-safe unpadded base64             |
 * | key.ext         | boolean | true                                                        |
 * | iv              | string  | 16-byte initial counter block, unpadded base64              |
 * | hashes.sha256   | string  | SHA-256 of the ciphertext, 32 bytes, unpadded base64        |
 * | v               | string  | "v2" (on input also "v1", see below)                        |
 * +-----------------+---------+-------------------------------------------------------------+
 * </pre>
 *
 * <p>Parsing decisions (what {@link #fromJson} accepts beyond the letter of the spec, and why):
 *
 * <ul>
 *   <li><b>Version.</b> The definition says {@code v} must be {@code "v2"}. We also accept {@code
 *       "v1"}: it differs from v2 only in how old senders chose the IV, and Element Web still
 *       decrypts it with the same 64-bit counter, which {@link AttachmentCipher} implements exactly
 *       (see there), so old media keeps opening. The hash is required for v1 as for v2. A missing
 *       {@code v} (the pre-v1 format with a 128-bit counter) and any other value are rejected, as
 *       matrix-rust-sdk and mautrix-go reject everything but v2. We never write v1.
 *   <li><b>Base64.</b> {@code iv} and {@code hashes.sha256} are read with the standard alphabet,
 *       {@code k} with the URL-safe one; padded forms are accepted as the appendix asks of
 *       receivers. Output is always unpadded.
 *   <li><b>key_ops.</b> The spec requires both {@code "encrypt"} and {@code "decrypt"}; we require
 *       only {@code "decrypt"}, the operation a receiver performs (as WebCrypto's key import does).
 *   <li><b>ext.</b> Must be a boolean when present; its value is not checked (extractability is a
 *       WebCrypto notion with no meaning here). We always write {@code true}.
 *   <li><b>IV counter half.</b> Senders must zero the low 8 bytes of the IV; receivers do not check
 *       it (nor do other clients), and decryption is exact for any IV.
 *   <li><b>url.</b> Optional on input (rust-sdk's media info has none); when present it must be a
 *       string starting with {@code mxc://}, so a bridge never fetches an arbitrary URL from an
 *       event.
 * </ul>
 *
 * <p>Errors: every malformed field throws {@link EncryptedFileException} naming the field. Secrets:
 * {@link #toString()} never prints the key; there is deliberately no {@code equals} or {@code
 * hashCode} (the object holds a secret key); compare {@link #toJson()} trees instead.
 */
public final class EncryptedFile {
  /** The only version this library writes. */
  public static final String VERSION_V2 = "v2";

  /** The legacy version accepted on input; decrypted exactly like v2. */
  public static final String VERSION_V1 = "v1";

  /** The JWK {@code alg} of AES-256 in counter mode. */
  public static final String ALGORITHM = "A256CTR";

  /** The JWK {@code kty} of a symmetric key. */
  public static final String KEY_TYPE = "oct";

  /** AES-256 key length in bytes. */
  public static final int KEY_LENGTH = 32;

  /** AES block and counter-block length in bytes. */
  public static final int IV_LENGTH = 16;

  /** SHA-256 digest length in bytes. */
  public static final int SHA256_LENGTH = 32;

  /** The URI scheme prefix of content-repository URLs. */
  public static final String MXC_PREFIX = "mxc://";

  private static final List<String> DEFAULT_KEY_OPS = List.of("encrypt", "decrypt");

  private final String url;
  private final byte[] key;
  private final List<String> keyOps;
  private final byte[] iv;
  private final byte[] sha256;
  private final String version;

  private EncryptedFile(
      String url, byte[] key, List<String> keyOps, byte[] iv, byte[] sha256, String version) {
    this.url = url;
    this.key = key;
    this.keyOps = keyOps;
    this.iv = iv;
    this.sha256 = sha256;
    this.version = version;
  }

  /** A freshly encrypted v2 file without a URL; arrays are copied. */
  static EncryptedFile created(byte[] key, byte[] iv, byte[] sha256) {
    DecodeException.requireLength("attachment key", KEY_LENGTH, key.length);
    DecodeException.requireLength("attachment iv", IV_LENGTH, iv.length);
    DecodeException.requireLength("attachment sha256", SHA256_LENGTH, sha256.length);
    return new EncryptedFile(
        null, key.clone(), DEFAULT_KEY_OPS, iv.clone(), sha256.clone(), VERSION_V2);
  }

  /**
   * Parses and validates an {@code EncryptedFile} JSON object, as found under {@code content.file}
   * or {@code content.info.thumbnail_file} of a decrypted event.
   *
   * @param json the object; null or a non-object is rejected
   * @return the validated file
   * @throws EncryptedFileException if any field is missing, of the wrong type, badly encoded, of
   *     the wrong length, or names an unsupported version, algorithm or key type
   */
  public static EncryptedFile fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new EncryptedFileException(
          "EncryptedFile: expected a JSON object but found " + typeOf(json));
    }
    String version = text(json, "v", "EncryptedFile");
    if (!VERSION_V2.equals(version) && !VERSION_V1.equals(version)) {
      throw new EncryptedFileException(
          "EncryptedFile.v: expected \"v2\" (or legacy \"v1\") but found " + quote(version));
    }
    String url = null;
    if (json.has("url")) {
      url = checkUrl(text(json, "url", "EncryptedFile"));
    }
    JsonNode jwk = object(json, "key", "EncryptedFile");
    expect(jwk, "kty", KEY_TYPE);
    expect(jwk, "alg", ALGORITHM);
    List<String> keyOps = keyOps(jwk);
    JsonNode ext = jwk.get("ext");
    if (ext != null && !ext.isBoolean()) {
      throw new EncryptedFileException(
          "EncryptedFile.key.ext: expected a boolean but found " + typeOf(ext));
    }
    byte[] key = base64(text(jwk, "k", "EncryptedFile.key"), true, "key.k", KEY_LENGTH);
    byte[] iv = base64(text(json, "iv", "EncryptedFile"), false, "iv", IV_LENGTH);
    JsonNode hashes = object(json, "hashes", "EncryptedFile");
    byte[] sha256 =
        base64(
            text(hashes, "sha256", "EncryptedFile.hashes"), false, "hashes.sha256", SHA256_LENGTH);
    return new EncryptedFile(url, key, keyOps, iv, sha256, version);
  }

  /**
   * Serialises to the spec's JSON object with unpadded base64 and the canonical JWK fields. The
   * result contains the key: put it only into an event that is itself end-to-end encrypted.
   *
   * @return a new, mutable tree owned by the caller
   */
  public ObjectNode toJson() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode out = f.objectNode();
    if (url != null) {
      out.put("url", url);
    }
    ObjectNode jwk = out.putObject("key");
    jwk.put("kty", KEY_TYPE);
    ArrayNode ops = jwk.putArray("key_ops");
    keyOps.forEach(ops::add);
    jwk.put("alg", ALGORITHM);
    jwk.put("k", UnpaddedBase64.encodeUrlSafe(key));
    jwk.put("ext", true);
    out.put("iv", UnpaddedBase64.encode(iv));
    out.putObject("hashes").put("sha256", UnpaddedBase64.encode(sha256));
    out.put("v", version);
    return out;
  }

  /**
   * Returns a copy pointing at {@code mxcUrl}, typically the {@code content_uri} the media
   * repository returned for the uploaded ciphertext.
   *
   * @throws EncryptedFileException if the URL is null or does not start with {@code mxc://}
   */
  public EncryptedFile withUrl(String mxcUrl) {
    return new EncryptedFile(checkUrl(mxcUrl), key, keyOps, iv, sha256, version);
  }

  /** The {@code mxc://} URL of the ciphertext, empty before {@link #withUrl} on a new file. */
  public Optional<String> url() {
    return Optional.ofNullable(url);
  }

  /** {@code "v2"}, or {@code "v1"} for a legacy file that was parsed. */
  public String version() {
    return version;
  }

  /** The 16-byte initial counter block (a copy). Not secret. */
  public byte[] iv() {
    return iv.clone();
  }

  /** The expected SHA-256 of the ciphertext (a copy). Not secret. */
  public byte[] sha256() {
    return sha256.clone();
  }

  /** The JWK {@code key_ops} as parsed (or {@code [encrypt, decrypt]}); unmodifiable. */
  public List<String> keyOps() {
    return keyOps;
  }

  /** The AES key itself, not copied: for {@link AttachmentCipher} only, never to be exposed. */
  byte[] keyBytes() {
    return key;
  }

  /** Names the version, URL, IV and hash; the key is never printed. */
  @Override
  public String toString() {
    return "EncryptedFile{v="
        + version
        + ", url="
        + url
        + ", iv="
        + UnpaddedBase64.encode(iv)
        + ", sha256="
        + UnpaddedBase64.encode(sha256)
        + ", key=<redacted>}";
  }

  private static String checkUrl(String candidate) {
    if (candidate == null || !candidate.startsWith(MXC_PREFIX)) {
      throw new EncryptedFileException(
          "EncryptedFile.url: expected an mxc:// URI but found "
              + (candidate == null ? "null" : "a string of " + candidate.length() + " characters"));
    }
    return candidate;
  }

  private static List<String> keyOps(JsonNode jwk) {
    JsonNode ops = jwk.get("key_ops");
    if (ops == null || !ops.isArray()) {
      throw new EncryptedFileException(
          "EncryptedFile.key.key_ops: expected an array but found " + typeOf(ops));
    }
    List<String> list = new ArrayList<>(ops.size());
    for (JsonNode op : ops) {
      if (!op.isTextual()) {
        throw new EncryptedFileException(
            "EncryptedFile.key.key_ops: expected strings but found " + typeOf(op));
      }
      list.add(op.textValue());
    }
    if (!list.contains("decrypt")) {
      throw new EncryptedFileException(
          "EncryptedFile.key.key_ops: expected to contain \"decrypt\" but found "
              + list.size()
              + " operations without it");
    }
    return List.copyOf(list);
  }

  private static void expect(JsonNode jwk, String field, String expected) {
    String actual = text(jwk, field, "EncryptedFile.key");
    if (!expected.equals(actual)) {
      throw new EncryptedFileException(
          "EncryptedFile.key."
              + field
              + ": expected \""
              + expected
              + "\" but found "
              + quote(actual));
    }
  }

  private static byte[] base64(String text, boolean urlSafe, String field, int length) {
    byte[] bytes;
    try {
      bytes = urlSafe ? UnpaddedBase64.decodeUrlSafe(text) : UnpaddedBase64.decode(text);
    } catch (DecodeException e) {
      throw new EncryptedFileException(
          "EncryptedFile."
              + field
              + ": expected "
              + (urlSafe ? "URL-safe " : "")
              + "base64 but found invalid text of "
              + text.length()
              + " characters");
    }
    if (bytes.length != length) {
      throw new EncryptedFileException(
          "EncryptedFile."
              + field
              + ": expected "
              + length
              + " bytes but found "
              + bytes.length
              + " bytes");
    }
    return bytes;
  }

  private static String text(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new EncryptedFileException(
          where + "." + field + ": expected a string but found " + typeOf(value));
    }
    return value.textValue();
  }

  private static JsonNode object(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || !value.isObject()) {
      throw new EncryptedFileException(
          where + "." + field + ": expected an object but found " + typeOf(value));
    }
    return value;
  }

  /** Quotes short non-secret identifiers (versions, algorithm names); long ones by length. */
  private static String quote(String value) {
    Objects.requireNonNull(value);
    if (value.length() > 16) {
      return "a string of " + value.length() + " characters";
    }
    return "\"" + value + "\"";
  }

  private static String typeOf(JsonNode node) {
    return node == null || node.isMissingNode() ? "nothing" : node.getNodeType().toString();
  }
}
