package io.github.mxe2ee.store;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;

/**
 * Where the {@link PickleKey} comes from. Three kinds, in the order {@link #standard} tries them:
 *
 * <ol>
 *   <li>configuration: explicit bytes or base64 text ({@link #ofBytes}, {@link #ofBase64});
 *   <li>the environment variable {@value #ENV_VARIABLE} holding base64 ({@link #fromEnvironment});
 *   <li>a key file of exactly 32 raw bytes ({@link #fromKeyFile}), created on first start with
 *       owner-only permissions (0600), atomically; an existing file with another size, readable or
 *       writable by group or others, or owned by another user, is refused, as is a key file in a
 *       directory that another user could write to (see {@link PickleKeyFile}).
 * </ol>
 *
 * <p>An all-zero key is refused from every source: it is what an unset secret or a copied example
 * looks like, and it protects nothing.
 *
 * <p>Losing the key makes the store unreadable; leaking it exposes every pickle. Back the key up
 * together with the database, but store them apart. {@link #describe()} names the source for logs
 * without revealing the key. Errors are {@link PickleKeyException}s without key material.
 */
public interface PickleKeySource {
  /** The environment variable read by {@link #fromEnvironment()}: base64 of 32 bytes. */
  String ENV_VARIABLE = "MXE2EE_PICKLE_KEY";

  /**
   * Loads (and for a new key file, creates) the key.
   *
   * @throws PickleKeyException if it is missing or unacceptable
   */
  PickleKey load();

  /** Names the source for logs, for example {@code key file /var/lib/bot/pickle.key}. */
  String describe();

  /**
   * A key given by configuration as raw bytes (copied now).
   *
   * @throws PickleKeyException for a length other than 32 bytes or an all-zero key
   */
  static PickleKeySource ofBytes(byte[] key) {
    return ofBytes(key, "configured pickle key");
  }

  private static PickleKeySource ofBytes(byte[] key, String what) {
    PickleKey k = checked(key, what);
    return new PickleKeySource() {
      @Override
      public PickleKey load() {
        return k;
      }

      @Override
      public String describe() {
        return "configured key";
      }
    };
  }

  /**
   * A key given by configuration as base64 (standard or URL-safe alphabet, padding optional).
   *
   * @throws PickleKeyException for bad base64 or a length other than 32 bytes
   */
  static PickleKeySource ofBase64(String base64) {
    return ofBytes(decodeBase64(base64, "configured pickle key"), "configured pickle key");
  }

  /** The variable {@value #ENV_VARIABLE} of this process's environment. */
  static PickleKeySource fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /** The variable {@value #ENV_VARIABLE} of the given environment (for tests and embedding). */
  static PickleKeySource fromEnvironment(Map<String, String> environment) {
    Objects.requireNonNull(environment, "environment");
    return new PickleKeySource() {
      @Override
      public PickleKey load() {
        String value = environment.get(ENV_VARIABLE);
        if (value == null || value.isBlank()) {
          throw new PickleKeyException("environment variable " + ENV_VARIABLE + " is not set");
        }
        String what = "environment variable " + ENV_VARIABLE;
        return checked(decodeBase64(value, what), what);
      }

      @Override
      public String describe() {
        return "environment variable " + ENV_VARIABLE;
      }
    };
  }

  /**
   * A key file of 32 raw bytes, created with permissions 0600 (and missing parent directories with
   * 0700) from {@code random} if it does not exist. See {@link PickleKeyFile}.
   */
  static PickleKeySource fromKeyFile(Path file, SecureRandom random) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(random, "random");
    return new PickleKeySource() {
      @Override
      public PickleKey load() {
        return PickleKeyFile.loadOrCreate(file, random);
      }

      @Override
      public String describe() {
        return "key file " + file;
      }
    };
  }

  /**
   * The usual resolution: {@code configuredBase64} if non-null, else {@value #ENV_VARIABLE} if set
   * in {@code environment}, else the key file (created on first start).
   */
  static PickleKeySource standard(
      String configuredBase64, Map<String, String> environment, Path keyFile, SecureRandom random) {
    if (configuredBase64 != null) {
      return ofBase64(configuredBase64);
    }
    String env = environment.get(ENV_VARIABLE);
    if (env != null && !env.isBlank()) {
      return fromEnvironment(environment);
    }
    return fromKeyFile(keyFile, random);
  }

  /** {@link PickleKey#fromBytes}, with the source named in the message. */
  private static PickleKey checked(byte[] key, String what) {
    try {
      return PickleKey.fromBytes(key);
    } catch (PickleKeyException e) {
      throw new PickleKeyException(what + ": " + e.getMessage());
    }
  }

  private static byte[] decodeBase64(String text, String what) {
    Objects.requireNonNull(text, what);
    String s = text.strip();
    try {
      return s.indexOf('-') >= 0 || s.indexOf('_') >= 0
          ? Base64.getUrlDecoder().decode(s)
          : Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      // The decoder's message may quote an offending character; do not chain it.
      throw new PickleKeyException(what + " is not valid base64 (" + s.length() + " chars)");
    }
  }
}
