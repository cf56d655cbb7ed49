package io.github.mxe2ee.secrets;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import java.util.Objects;

/**
 * The {@code passphrase} property of a key description (spec: secrets.md, "Deriving keys from
 * passphrases"): algorithm {@code m.pbkdf2}, PBKDF2-HMAC-SHA-512 over the UTF-8 passphrase with the
 * UTF-8 {@code salt} string and {@code iterations} rounds, {@code bits} (default 256) of output.
 *
 * @param salt the salt string as stored (not base64-decoded: the spec uses the string's bytes)
 * @param iterations rounds, 1 to {@link #MAX_ITERATIONS}
 */
public record PassphraseInfo(String salt, int iterations) {
  /** The only passphrase algorithm the spec defines. */
  public static final String ALGORITHM = "m.pbkdf2";

  /** Rounds for new keys: Element's default. */
  public static final int DEFAULT_ITERATIONS = 500_000;

  /**
   * Most rounds accepted: account data is writable by any of the user's devices, and a description
   * asking for billions of rounds would pin a CPU for hours. 10 million is 20 times Element's
   * default (a few seconds here).
   */
  public static final int MAX_ITERATIONS = 10_000_000;

  /** Validates the fields. */
  public PassphraseInfo {
    Objects.requireNonNull(salt, "salt");
    if (iterations < 1 || iterations > MAX_ITERATIONS) {
      throw new DecodeException(
          "passphrase.iterations: expected 1.." + MAX_ITERATIONS + ", got " + iterations);
    }
  }

  /**
   * Parses the {@code passphrase} object.
   *
   * @throws DecodeException for another algorithm, a missing or ill-typed field, {@code bits} other
   *     than 256, or iterations out of range
   */
  public static PassphraseInfo fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new DecodeException("passphrase: expected a JSON object");
    }
    if (!ALGORITHM.equals(json.path("algorithm").asText(null))) {
      throw new DecodeException("passphrase.algorithm: expected " + ALGORITHM);
    }
    JsonNode salt = json.get("salt");
    JsonNode iterations = json.get("iterations");
    if (salt == null || !salt.isTextual()) {
      throw new DecodeException("passphrase.salt: expected a string");
    }
    if (iterations == null || !iterations.canConvertToInt() || !iterations.isIntegralNumber()) {
      throw new DecodeException("passphrase.iterations: expected an integer");
    }
    JsonNode bits = json.get("bits");
    if (bits != null && !(bits.isIntegralNumber() && bits.asLong() == 256)) {
      throw new DecodeException("passphrase.bits: only 256 is supported");
    }
    return new PassphraseInfo(salt.asText(), iterations.asInt());
  }

  /** The wire form, with {@code bits: 256}. */
  public ObjectNode toJson() {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("algorithm", ALGORITHM);
    o.put("salt", salt);
    o.put("iterations", iterations);
    o.put("bits", 256);
    return o;
  }
}
