package io.github.mxe2ee.plugin;

import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.machine.KeyRequestPolicy;
import io.github.mxe2ee.machine.RotationPolicy;
import io.github.mxe2ee.plugin.config.ConfigFiles;
import io.github.mxe2ee.plugin.http.SyncBodyParser;
import io.github.mxe2ee.plugin.latekeys.LateKeyOptions;
import io.github.mxe2ee.plugin.verification.VerificationOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Options of {@link MatrixE2ee}, in the Vert.x style: a mutable data object with defaults named by
 * {@code DEFAULT_*} constants, a copy constructor and fluent setters. Not thread-safe; configure it
 * before {@link MatrixE2ee#create} (which takes a copy).
 */
public class E2eeOptions {
  /** Default SQLite database file, relative to the working directory. */
  public static final String DEFAULT_STORE_PATH = "mxe2ee.db";

  /** Default pickle key file, created with permissions 0600 on first start. */
  public static final String DEFAULT_PICKLE_KEY_FILE = "mxe2ee.pickle-key";

  /** Default sharing strategy: every device that is not blacklisted. */
  public static final SharingStrategy DEFAULT_SHARING_STRATEGY = SharingStrategy.ALL_DEVICES;

  /** Default cap on request rounds the pump runs after one call before it yields. */
  public static final int DEFAULT_MAX_PUMP_ROUNDS = 8;

  /** Default: {@link MatrixE2ee#send} into an unencrypted room sends the event plain. */
  public static final boolean DEFAULT_REFUSE_UNENCRYPTED = false;

  /** Default prefix of the event bus addresses of {@code plugin.bus.Mxe2eeVerticle}. */
  public static final String DEFAULT_BUS_ADDRESS_PREFIX = "mxe2ee";

  /** Default largest {@code /sync} body accepted (see {@link SyncBodyParser}). */
  public static final long DEFAULT_MAX_SYNC_BODY_BYTES = SyncBodyParser.DEFAULT_MAX_DOCUMENT_BYTES;

  private String homeserverUrl;
  private LoginOptions login;
  private String storePath = DEFAULT_STORE_PATH;
  private String postgresUrl;
  private String pickleKeyFile = DEFAULT_PICKLE_KEY_FILE;
  private String pickleKeyBase64;
  private SharingStrategy sharingStrategy = DEFAULT_SHARING_STRATEGY;
  private RotationPolicy rotation = RotationPolicy.DEFAULT;
  private KeyRequestPolicy keyRequestPolicy = KeyRequestPolicy.OWN_VERIFIED_DEVICES;
  private int maxPumpRounds = DEFAULT_MAX_PUMP_ROUNDS;
  private io.github.mxe2ee.plugin.http.RetryPolicy retryPolicy =
      io.github.mxe2ee.plugin.http.RetryPolicy.DEFAULT;
  private String recoveryKeyFile;
  private String accountPassword;
  private boolean refuseUnencrypted = DEFAULT_REFUSE_UNENCRYPTED;
  private long maxSyncBodyBytes = DEFAULT_MAX_SYNC_BODY_BYTES;
  private io.github.mxe2ee.plugin.media.MediaOptions media =
      new io.github.mxe2ee.plugin.media.MediaOptions();
  private VerificationOptions verification = new VerificationOptions();
  private MeterRegistry meterRegistry;
  private String busAddressPrefix = DEFAULT_BUS_ADDRESS_PREFIX;
  private LateKeyOptions lateKeys = new LateKeyOptions();
  private io.github.mxe2ee.plugin.history.HistoryOptions history =
      new io.github.mxe2ee.plugin.history.HistoryOptions();

  /** Options with every default. */
  public E2eeOptions() {}

  /** A copy of {@code other}. */
  public E2eeOptions(E2eeOptions other) {
    this.homeserverUrl = other.homeserverUrl;
    this.login = other.login == null ? null : new LoginOptions(other.login);
    this.storePath = other.storePath;
    this.postgresUrl = other.postgresUrl;
    this.pickleKeyFile = other.pickleKeyFile;
    this.pickleKeyBase64 = other.pickleKeyBase64;
    this.sharingStrategy = other.sharingStrategy;
    this.rotation = other.rotation;
    this.keyRequestPolicy = other.keyRequestPolicy;
    this.maxPumpRounds = other.maxPumpRounds;
    this.retryPolicy = other.retryPolicy;
    this.recoveryKeyFile = other.recoveryKeyFile;
    this.accountPassword = other.accountPassword;
    this.refuseUnencrypted = other.refuseUnencrypted;
    this.maxSyncBodyBytes = other.maxSyncBodyBytes;
    this.media = new io.github.mxe2ee.plugin.media.MediaOptions(other.media);
    this.verification = new VerificationOptions(other.verification);
    this.meterRegistry = other.meterRegistry;
    this.busAddressPrefix = other.busAddressPrefix;
    this.lateKeys = new LateKeyOptions(other.lateKeys);
    this.history = new io.github.mxe2ee.plugin.history.HistoryOptions(other.history);
  }

  /** The options of encrypted attachments (size limits, timeouts, temporary directory). */
  public io.github.mxe2ee.plugin.media.MediaOptions getMedia() {
    return media;
  }

  /** Sets the options of encrypted attachments; copied. */
  public E2eeOptions setMedia(io.github.mxe2ee.plugin.media.MediaOptions media) {
    this.media = new io.github.mxe2ee.plugin.media.MediaOptions(media);
    return this;
  }

  /** Who may verify the bot by SAS, and the comparison timeout (default: own user, 5 minutes). */
  public VerificationOptions getVerification() {
    return verification;
  }

  /** Sets the verification policy (a copy is kept). */
  public E2eeOptions setVerification(VerificationOptions verification) {
    this.verification = new VerificationOptions(Objects.requireNonNull(verification));
    return this;
  }

  /**
   * The prefix of the event bus addresses of {@link io.github.mxe2ee.plugin.bus.Mxe2eeVerticle}
   * ({@link io.github.mxe2ee.plugin.bus.BusAddresses}); default {@value
   * #DEFAULT_BUS_ADDRESS_PREFIX}.
   */
  public String getBusAddressPrefix() {
    return busAddressPrefix;
  }

  /**
   * Sets the event bus address prefix: letters, digits, {@code .}, {@code _} and {@code -}, 1 to 64
   * characters, not starting or ending with a dot (two verticles in one Vert.x need two prefixes).
   *
   * @throws IllegalArgumentException otherwise
   */
  public E2eeOptions setBusAddressPrefix(String prefix) {
    if (prefix == null || !prefix.matches("[A-Za-z0-9_-]([A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?")) {
      throw new IllegalArgumentException(
          "bus address prefix must be 1 to 64 of [A-Za-z0-9._-], not starting or ending with '.'");
    }
    this.busAddressPrefix = prefix;
    return this;
  }

  /**
   * The Micrometer registry the plugin's meters go to (docs/METRICS.md), or null (the default):
   * then the plugin keeps them on its own {@link io.micrometer.core.instrument.simple
   * .SimpleMeterRegistry}, readable through {@link MatrixE2ee#metrics()}.
   */
  public MeterRegistry getMeterRegistry() {
    return meterRegistry;
  }

  /** Sets the Micrometer registry for the plugin's meters (shared, not copied); null: its own. */
  public E2eeOptions setMeterRegistry(MeterRegistry meterRegistry) {
    this.meterRegistry = meterRegistry;
    return this;
  }

  /** The late-key options (docs/PLUGIN.md, "Late keys"); never null, modifiable in place. */
  public LateKeyOptions getLateKeys() {
    return lateKeys;
  }

  /** Sets the late-key options (copied). */
  public E2eeOptions setLateKeys(LateKeyOptions lateKeys) {
    this.lateKeys = new LateKeyOptions(Objects.requireNonNull(lateKeys, "lateKeys"));
    return this;
  }

  /**
   * The room history sharing options (MSC4268, docs/HISTORY_SHARING.md); never null, modifiable in
   * place.
   */
  public io.github.mxe2ee.plugin.history.HistoryOptions getHistory() {
    return history;
  }

  /** Sets the room history sharing options (copied). */
  public E2eeOptions setHistory(io.github.mxe2ee.plugin.history.HistoryOptions history) {
    this.history =
        new io.github.mxe2ee.plugin.history.HistoryOptions(
            Objects.requireNonNull(history, "history"));
    return this;
  }

  /**
   * The recovery key file (docs/IDENTITY.md), or null (the default) to start without a
   * cross-signing identity. When set, {@link MatrixE2ee#start} creates it (0600) on first use,
   * refuses it if group or others may read it, and bootstraps or restores the identity with it.
   */
  public String getRecoveryKeyFile() {
    return recoveryKeyFile;
  }

  /** Sets the recovery key file; null disables the identity bootstrap. */
  public E2eeOptions setRecoveryKeyFile(String recoveryKeyFile) {
    this.recoveryKeyFile = recoveryKeyFile;
    return this;
  }

  /**
   * The account's password for user-interactive auth when the identity is uploaded, or null. Kept
   * in memory only; never logged or printed.
   */
  public String getAccountPassword() {
    return accountPassword;
  }

  /** Sets the account's password for user-interactive auth (null: none). */
  public E2eeOptions setAccountPassword(String accountPassword) {
    this.accountPassword = accountPassword;
    return this;
  }

  /**
   * Reads options from a configuration file: YAML, or JSON (a {@code .json} file); the format and
   * every field, with its default, are documented in {@code config/mxe2ee.yaml}.
   *
   * @throws io.github.mxe2ee.plugin.config.ConfigException for an unreadable or malformed file, an
   *     unknown field or an invalid value; the message names the file and the field
   */
  public static E2eeOptions fromFile(Path file) {
    return ConfigFiles.read(file);
  }

  /**
   * Reads options from a configuration object of the same shape as the file.
   *
   * @throws io.github.mxe2ee.plugin.config.ConfigException for an unknown field or invalid value
   */
  public static E2eeOptions fromJson(JsonObject json) {
    return ConfigFiles.fromJson(json);
  }

  /** The homeserver base URL for the plugin's own sync loop and verticle; null if not set. */
  public String getHomeserverUrl() {
    return homeserverUrl;
  }

  /** Sets the homeserver base URL, such as {@code https://matrix.example.org}. */
  public E2eeOptions setHomeserverUrl(String homeserverUrl) {
    this.homeserverUrl = homeserverUrl;
    return this;
  }

  /** How the plugin's own sync loop logs in; null when the bot logs in itself. */
  public LoginOptions getLogin() {
    return login;
  }

  /** Sets how the plugin's own sync loop logs in. */
  public E2eeOptions setLogin(LoginOptions login) {
    this.login = login;
    return this;
  }

  /**
   * Sets the store from a location: {@code sqlite:PATH} (the default kind, one file) or a
   * PostgreSQL URL ({@code postgresql://host:port/db?user=...} or {@code jdbc:postgresql://...}).
   *
   * @throws IllegalArgumentException for another scheme or an empty path
   */
  public E2eeOptions setStore(String location) {
    Objects.requireNonNull(location, "location");
    if (location.startsWith("sqlite:")) {
      String path = location.substring("sqlite:".length());
      if (path.isBlank()) {
        throw new IllegalArgumentException("sqlite: store location needs a file path");
      }
      this.storePath = path;
      this.postgresUrl = null;
    } else if (location.startsWith("postgresql://") || location.startsWith("postgres://")) {
      String rest = location.substring(location.indexOf("//") + 2);
      refuseUserInfo(rest);
      this.postgresUrl = "jdbc:postgresql://" + rest;
    } else if (location.startsWith("jdbc:postgresql:")) {
      refuseUserInfo(location.substring("jdbc:postgresql:".length()));
      this.postgresUrl = location;
    } else {
      throw new IllegalArgumentException(
          "store location must start with sqlite:, postgresql:// or jdbc:postgresql:");
    }
    return this;
  }

  /** The JDBC driver reads credentials from query parameters only, not from {@code user:pw@}. */
  private static void refuseUserInfo(String rest) {
    String authority = rest.startsWith("//") ? rest.substring(2) : rest;
    int end = authority.indexOf('/');
    if ((end < 0 ? authority : authority.substring(0, end)).contains("@")) {
      throw new IllegalArgumentException(
          "PostgreSQL store URL: put the credentials in query parameters"
              + " (?user=NAME&password=SECRET), not before the host");
    }
  }

  /**
   * The JDBC URL of the PostgreSQL store, or null for SQLite at {@link #getStorePath()}. It may
   * carry a password: never log it.
   */
  public String getPostgresUrl() {
    return postgresUrl;
  }

  /** The SQLite database file. */
  public String getStorePath() {
    return storePath;
  }

  /** Sets the SQLite database file. */
  public E2eeOptions setStorePath(String storePath) {
    this.storePath = Objects.requireNonNull(storePath, "storePath");
    this.postgresUrl = null;
    return this;
  }

  /** The pickle key file used when no key is configured and the environment has none. */
  public String getPickleKeyFile() {
    return pickleKeyFile;
  }

  /** Sets the pickle key file. */
  public E2eeOptions setPickleKeyFile(String pickleKeyFile) {
    this.pickleKeyFile = Objects.requireNonNull(pickleKeyFile, "pickleKeyFile");
    return this;
  }

  /** The configured pickle key (base64 of 32 bytes), or null to use the environment or file. */
  public String getPickleKeyBase64() {
    return pickleKeyBase64;
  }

  /** Sets the pickle key (base64 of 32 bytes); null means environment, then key file. */
  public E2eeOptions setPickleKeyBase64(String pickleKeyBase64) {
    this.pickleKeyBase64 = pickleKeyBase64;
    return this;
  }

  /**
   * When outbound Megolm sessions are replaced: defaults for rooms that name none, and maxima for
   * what rooms may ask ({@link RotationPolicy}; default {@link RotationPolicy#DEFAULT}, the spec's
   * one week / 100 messages with maxima of one week / 10,000 messages).
   */
  public RotationPolicy getRotation() {
    return rotation;
  }

  /** Sets the rotation policy of outbound Megolm sessions. */
  public E2eeOptions setRotation(RotationPolicy rotation) {
    this.rotation = Objects.requireNonNull(rotation, "rotation");
    return this;
  }

  /**
   * Which key requests are answered ({@link KeyRequestPolicy}; default {@link
   * KeyRequestPolicy#OWN_VERIFIED_DEVICES}: only the bot's own verified devices).
   */
  public KeyRequestPolicy getKeyRequestPolicy() {
    return keyRequestPolicy;
  }

  /** Sets which key requests are answered. */
  public E2eeOptions setKeyRequestPolicy(KeyRequestPolicy policy) {
    this.keyRequestPolicy = Objects.requireNonNull(policy, "policy");
    return this;
  }

  /** Which devices get room keys. */
  public SharingStrategy getSharingStrategy() {
    return sharingStrategy;
  }

  /** Sets which devices get room keys. */
  public E2eeOptions setSharingStrategy(SharingStrategy sharingStrategy) {
    this.sharingStrategy = Objects.requireNonNull(sharingStrategy, "sharingStrategy");
    return this;
  }

  /** How many request rounds one pump runs at most. */
  public int getMaxPumpRounds() {
    return maxPumpRounds;
  }

  /** Sets how many request rounds one pump runs at most (at least 1). */
  public E2eeOptions setMaxPumpRounds(int maxPumpRounds) {
    if (maxPumpRounds < 1) {
      throw new IllegalArgumentException("maxPumpRounds must be at least 1");
    }
    this.maxPumpRounds = maxPumpRounds;
    return this;
  }

  /** When failed homeserver requests of sends and of the request pump are retried. */
  public io.github.mxe2ee.plugin.http.RetryPolicy getRetryPolicy() {
    return retryPolicy;
  }

  /**
   * Sets when failed homeserver requests of {@link MatrixE2ee#send} and of the machine's request
   * pump are retried (rate limits, transient errors); default {@link
   * io.github.mxe2ee.plugin.http.RetryPolicy#DEFAULT}, {@link
   * io.github.mxe2ee.plugin.http.RetryPolicy#NONE} for none.
   */
  public E2eeOptions setRetryPolicy(io.github.mxe2ee.plugin.http.RetryPolicy retryPolicy) {
    this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
    return this;
  }

  /** Whether {@link MatrixE2ee#send} refuses rooms without encryption instead of sending plain. */
  public boolean isRefuseUnencrypted() {
    return refuseUnencrypted;
  }

  /**
   * Sets what {@link MatrixE2ee#send} does in a room that is not encrypted: false (default) sends
   * the event plain, as the room's members expect; true fails the send with {@link
   * UnencryptedRoomException} and sends nothing.
   */
  public E2eeOptions setRefuseUnencrypted(boolean refuseUnencrypted) {
    this.refuseUnencrypted = refuseUnencrypted;
    return this;
  }

  /** The largest {@code /sync} body accepted, in bytes. */
  public long getMaxSyncBodyBytes() {
    return maxSyncBodyBytes;
  }

  /**
   * Sets the largest {@code /sync} body (or body given to {@link MatrixE2ee#onSync}) accepted, in
   * bytes, between 1 KiB and 1 GiB; a larger one is refused as a whole. Single events have their
   * own bounds (see {@link SyncBodyParser}).
   */
  public E2eeOptions setMaxSyncBodyBytes(long maxSyncBodyBytes) {
    if (maxSyncBodyBytes < 1024 || maxSyncBodyBytes > (1L << 30)) {
      throw new IllegalArgumentException("maxSyncBodyBytes must be in [1 KiB, 1 GiB]");
    }
    this.maxSyncBodyBytes = maxSyncBodyBytes;
    return this;
  }

  @Override
  public String toString() {
    return "E2eeOptions[homeserver="
        + homeserverUrl
        + ", login="
        + login
        + ", store="
        + (postgresUrl == null ? "sqlite:" + storePath : postgresUrl.split("\\?", 2)[0])
        + ", keyFile="
        + pickleKeyFile
        + ", key="
        + (pickleKeyBase64 == null ? "unset" : "configured")
        + ", strategy="
        + sharingStrategy
        + "]";
  }
}
