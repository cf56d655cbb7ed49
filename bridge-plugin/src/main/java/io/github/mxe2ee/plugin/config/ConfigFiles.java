package io.github.mxe2ee.plugin.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.machine.KeyRequestPolicy;
import io.github.mxe2ee.machine.RotationPolicy;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.LoginOptions;
import io.github.mxe2ee.plugin.http.RetryPolicy;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads the plugin's configuration file into {@link E2eeOptions}. The file is YAML (JSON is also
 * accepted: a {@code .json} file is read as JSON, and YAML is a superset of it); the shipped {@code
 * config/mxe2ee.yaml} documents every field with its default. Reading is strict: an unknown field,
 * a value of the wrong type, an unknown enum value or an out-of-range number fails with a {@link
 * ConfigException} naming the file and the field's dotted path, before anything is started.
 *
 * <p>Relative paths in the file (store, pickle key, password files) are relative to the working
 * directory, like the defaults of {@link E2eeOptions}. Secrets (passwords, tokens, pickle keys) can
 * be given inline or, better, as {@code *_file} fields naming a file that holds them; their values
 * never appear in errors or in {@code toString}.
 */
public final class ConfigFiles {
  /** Largest configuration file read: 1 MiB. */
  public static final long MAX_FILE_BYTES = 1 << 20;

  private static final StreamReadConstraints LIMITS =
      StreamReadConstraints.builder()
          .maxNestingDepth(32)
          .maxStringLength(64 * 1024)
          .maxDocumentLength(MAX_FILE_BYTES)
          .build();

  private static final ObjectMapper JSON = mapper(JsonFactory.builder());
  private static final ObjectMapper YAML = mapper(YAMLFactory.builder());

  private ConfigFiles() {}

  private static ObjectMapper mapper(
      com.fasterxml.jackson.core.TSFBuilder<? extends JsonFactory, ?> builder) {
    return new ObjectMapper(builder.streamReadConstraints(LIMITS).build());
  }

  /**
   * Reads a configuration file.
   *
   * @throws ConfigException if it is missing, unreadable, too large, malformed or invalid
   */
  public static E2eeOptions read(Path file) {
    String source = file.toString();
    byte[] bytes;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ConfigException(source, null, "is larger than " + MAX_FILE_BYTES + " bytes");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(source, null, "does not exist");
    } catch (IOException e) {
      throw new ConfigException(source, null, "cannot be read: " + e.getClass().getSimpleName());
    }
    boolean json = source.toLowerCase(Locale.ROOT).endsWith(".json");
    JsonNode root;
    try {
      root = (json ? JSON : YAML).readTree(new String(bytes, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new ConfigException(
          source, null, "is not valid " + (json ? "JSON" : "YAML") + where(e));
    }
    return fromTree(source, root);
  }

  /**
   * Reads a configuration object of the file's shape.
   *
   * @throws ConfigException if it is invalid; the source is named {@code <json>}
   */
  public static E2eeOptions fromJson(JsonObject json) {
    JsonNode root;
    try {
      root = JSON.readTree(json.encode());
    } catch (JsonProcessingException e) {
      throw new ConfigException("<json>", null, "is not valid JSON" + where(e));
    }
    return fromTree("<json>", root);
  }

  private static String where(JsonProcessingException e) {
    var loc = e.getLocation();
    return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
  }

  private static E2eeOptions fromTree(String source, JsonNode tree) {
    Section root = Section.root(source, tree);
    E2eeOptions options = new E2eeOptions();
    String homeserver = root.string("homeserver", null, false);
    if (homeserver != null) {
      if (!homeserver.startsWith("http://") && !homeserver.startsWith("https://")) {
        throw root.error("homeserver", "must be an http:// or https:// URL");
      }
      options.setHomeserverUrl(homeserver);
    }
    Section login = root.section("login");
    if (login != null) {
      options.setLogin(login(login));
      // The same password answers user-interactive auth (uploading the cross-signing identity).
      options.setAccountPassword(options.getLogin().getPassword());
    }
    String store = root.string("store", null, false);
    if (store != null) {
      try {
        options.setStore(store);
      } catch (IllegalArgumentException e) {
        throw root.error("store", e.getMessage());
      }
    }
    Section pickle = root.section("pickle_key");
    if (pickle != null) {
      options.setPickleKeyFile(pickle.string("file", options.getPickleKeyFile(), false));
      String inline = pickle.string("base64", null, true);
      String fromFile = secretFile(pickle, "base64_file");
      if (inline != null && fromFile != null) {
        throw pickle.error("base64", "and base64_file are both set; keep one");
      }
      options.setPickleKeyBase64(inline != null ? inline : fromFile);
      pickle.finish();
    }
    Section encryption = root.section("encryption");
    if (encryption != null) {
      options.setSharingStrategy(
          encryption.choice(
              "sharing_strategy", SharingStrategy.class, options.getSharingStrategy()));
      options.setRefuseUnencrypted(
          encryption.bool("refuse_unencrypted", options.isRefuseUnencrypted()));
      options.setKeyRequestPolicy(
          encryption.choice("key_requests", KeyRequestPolicy.class, options.getKeyRequestPolicy()));
      Section rotation = encryption.section("rotation");
      if (rotation != null) {
        options.setRotation(rotation(rotation, options.getRotation()));
      }
      encryption.finish();
    }
    Section identity = root.section("identity");
    if (identity != null) {
      options.setRecoveryKeyFile(identity.string("recovery_key_file", null, false));
      identity.finish();
    }
    Section verification = root.section("verification");
    if (verification != null) {
      options.setVerification(verification(verification, options.getVerification()));
    }
    Section sync = root.section("sync");
    if (sync != null) {
      options.setMaxSyncBodyBytes(
          sync.integer("max_body_bytes", options.getMaxSyncBodyBytes(), 1024, 1L << 30));
      sync.finish();
    }
    Section media = root.section("media");
    if (media != null) {
      io.github.mxe2ee.plugin.media.MediaOptions m = options.getMedia();
      long max = io.github.mxe2ee.plugin.media.MediaOptions.MAX_LIMIT_BYTES;
      m.setMaxUploadBytes(media.integer("max_upload_bytes", m.getMaxUploadBytes(), 1, max));
      m.setMaxDownloadBytes(media.integer("max_download_bytes", m.getMaxDownloadBytes(), 1, max));
      m.setIdleTimeoutMs(media.integer("idle_timeout_ms", m.getIdleTimeoutMs(), 1, 3_600_000));
      m.setTempDir(media.string("temp_dir", m.getTempDir(), false));
      options.setMedia(m);
      media.finish();
    }
    Section pump = root.section("requests");
    if (pump != null) {
      options.setMaxPumpRounds(
          (int) pump.integer("max_rounds", options.getMaxPumpRounds(), 1, 1000));
      RetryPolicy d = options.getRetryPolicy();
      int attempts = (int) pump.integer("retry_max_attempts", d.maxAttempts(), 1, 100);
      long initial = pump.integer("retry_initial_backoff_ms", d.initialBackoffMs(), 1, 3_600_000);
      long max = pump.integer("retry_max_backoff_ms", d.maxBackoffMs(), 1, 3_600_000);
      long total = pump.integer("retry_max_total_ms", d.maxTotalMs(), 0, 86_400_000);
      if (max < initial) {
        throw new ConfigException(
            source,
            "requests.retry_max_backoff_ms",
            "must be >= requests.retry_initial_backoff_ms");
      }
      options.setRetryPolicy(new RetryPolicy(attempts, initial, max, total, d.jitter()));
      pump.finish();
    }
    root.section("appservice"); // bridge mode: read by AppserviceConfig
    Section bus = root.section("bus");
    if (bus != null) {
      String prefix = bus.string("address_prefix", options.getBusAddressPrefix(), false);
      try {
        options.setBusAddressPrefix(prefix);
      } catch (IllegalArgumentException e) {
        throw bus.error("address_prefix", e.getMessage());
      }
      bus.finish();
    }
    Section late = root.section("late_keys");
    if (late != null) {
      io.github.mxe2ee.plugin.latekeys.LateKeyOptions l = options.getLateKeys();
      l.setHoldMs(
          late.integer(
              "hold_ms",
              l.getHoldMs(),
              0,
              io.github.mxe2ee.plugin.latekeys.LateKeyOptions.MAX_HOLD_MS));
      l.setMaxHeldEvents(
          (int)
              late.integer(
                  "max_held_events",
                  l.getMaxHeldEvents(),
                  0,
                  io.github.mxe2ee.plugin.latekeys.LateKeyOptions.MAX_MAX_HELD_EVENTS));
      l.setMaxHeldBytes(
          late.integer(
              "max_held_bytes",
              l.getMaxHeldBytes(),
              0,
              io.github.mxe2ee.plugin.latekeys.LateKeyOptions.MAX_MAX_HELD_BYTES));
      l.setMaxHeldEventsPerRoom(
          (int)
              late.integer(
                  "max_held_events_per_room",
                  l.getMaxHeldEventsPerRoom(),
                  0,
                  io.github.mxe2ee.plugin.latekeys.LateKeyOptions.MAX_MAX_HELD_EVENTS));
      l.setMaxHeldBytesPerRoom(
          late.integer(
              "max_held_bytes_per_room",
              l.getMaxHeldBytesPerRoom(),
              0,
              io.github.mxe2ee.plugin.latekeys.LateKeyOptions.MAX_MAX_HELD_BYTES));
      late.finish();
    }
    root.finish();
    return options;
  }

  private static io.github.mxe2ee.plugin.verification.VerificationOptions verification(
      Section s, io.github.mxe2ee.plugin.verification.VerificationOptions defaults) {
    var v = new io.github.mxe2ee.plugin.verification.VerificationOptions(defaults);
    v.setAcceptOwnUser(s.bool("accept_own_user", v.isAcceptOwnUser()));
    try {
      v.setAllowedUsers(s.stringList("allowed_users", v.getAllowedUsers()));
    } catch (IllegalArgumentException e) {
      throw s.error("allowed_users", e.getMessage());
    }
    v.setComparisonTimeoutMs(
        1000
            * s.integer(
                "timeout_seconds",
                v.getComparisonTimeoutMs() / 1000,
                io.github.mxe2ee.plugin.verification.VerificationOptions.MIN_COMPARISON_TIMEOUT_MS
                    / 1000,
                io.github.mxe2ee.plugin.verification.VerificationOptions.MAX_COMPARISON_TIMEOUT_MS
                    / 1000));
    s.finish();
    return v;
  }

  /** The {@code encryption.rotation} section over {@code base}; limits as in RotationPolicy. */
  private static RotationPolicy rotation(Section s, RotationPolicy base) {
    long week = RotationPolicy.LIMIT_PERIOD.toMillis();
    long maxMs = s.integer("max_period_ms", base.maxPeriod().toMillis(), 1, week);
    long maxMsgs = s.integer("max_messages", base.maxMessages(), 1, RotationPolicy.LIMIT_MESSAGES);
    long defMs =
        s.integer("default_period_ms", Math.min(base.defaultPeriod().toMillis(), maxMs), 1, maxMs);
    long defMsgs =
        s.integer("default_messages", Math.min(base.defaultMessages(), maxMsgs), 1, maxMsgs);
    s.finish();
    return new RotationPolicy(
        java.time.Duration.ofMillis(defMs), defMsgs, java.time.Duration.ofMillis(maxMs), maxMsgs);
  }

  private static LoginOptions login(Section s) {
    LoginOptions login = new LoginOptions();
    login.setUser(s.string("user", null, false));
    login.setDeviceId(s.string("device_id", null, false));
    login.setPassword(oneOf(s, "password"));
    login.setAccessToken(oneOf(s, "access_token"));
    s.finish();
    if (login.getAccessToken() == null
        && (login.getUser() == null || login.getPassword() == null)) {
      throw new ConfigException(
          s.source(),
          "login",
          "needs user and password (or password_file), or access_token (or access_token_file)");
    }
    return login;
  }

  /** A secret given inline as {@code name} or in a file named by {@code name_file}. */
  private static String oneOf(Section s, String name) {
    String inline = s.string(name, null, true);
    String fromFile = secretFile(s, name + "_file");
    if (inline != null && fromFile != null) {
      throw s.error(name, "and " + name + "_file are both set; keep one");
    }
    return inline != null ? inline : fromFile;
  }

  /** The trimmed content of the file named by field {@code field}, or null when absent. */
  private static String secretFile(Section s, String field) {
    String path = s.string(field, null, false);
    if (path == null) {
      return null;
    }
    try {
      Path p = Path.of(path);
      if (Files.size(p) > 64 * 1024) {
        throw s.error(field, "names a file larger than 64 KiB: " + path);
      }
      String value = Files.readString(p, StandardCharsets.UTF_8).strip();
      if (value.isEmpty()) {
        throw s.error(field, "names an empty file: " + path);
      }
      return value;
    } catch (NoSuchFileException e) {
      throw s.error(field, "names a file that does not exist: " + path);
    } catch (IOException | RuntimeException e) {
      if (e instanceof ConfigException c) {
        throw c;
      }
      throw s.error(field, "names a file that cannot be read: " + path);
    }
  }
}
