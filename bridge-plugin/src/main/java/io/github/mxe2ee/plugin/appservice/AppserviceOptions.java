package io.github.mxe2ee.plugin.appservice;

import io.github.mxe2ee.plugin.E2eeOptions;
import java.util.Objects;

/**
 * Options of bridge mode ({@link AppserviceE2ee}): the registration's tokens and bot, the device
 * model, the engine options shared by every device (store, pickle key, sharing and key-request
 * policies, retries) and the bounds. Mutable, with fluent setters; {@link AppserviceE2ee#create}
 * takes a copy. {@code toString} never prints the tokens.
 *
 * <p>{@link #readRegistration} takes the tokens and the bot from the registration file the
 * homeserver loads, so they are written down once.
 */
public final class AppserviceOptions {
  /** Default {@link #getMaxOpenGhosts()}. */
  public static final int DEFAULT_MAX_OPEN_GHOSTS = 256;

  /** Default {@link #getMaxGhostSetupsInFlight()}. */
  public static final int DEFAULT_MAX_GHOST_SETUPS_IN_FLIGHT = 8;

  /** Default {@link #getMaxTransactionBytes()}: 32 MiB. */
  public static final long DEFAULT_MAX_TRANSACTION_BYTES = 32L * 1024 * 1024;

  /** Default {@link #getRememberedTransactions()}. */
  public static final int DEFAULT_REMEMBERED_TRANSACTIONS = 1024;

  private String homeserverUrl;
  private String asToken;
  private String hsToken;
  private String botLocalpart;
  private String botDeviceId;
  private String appserviceId;
  private DeviceModel deviceModel = DeviceModel.GHOST_DEVICES;
  private E2eeOptions engine = new E2eeOptions();
  private int maxOpenGhosts = DEFAULT_MAX_OPEN_GHOSTS;
  private int maxGhostSetupsInFlight = DEFAULT_MAX_GHOST_SETUPS_IN_FLIGHT;
  private long maxTransactionBytes = DEFAULT_MAX_TRANSACTION_BYTES;
  private int rememberedTransactions = DEFAULT_REMEMBERED_TRANSACTIONS;

  /** Options with every default; the homeserver URL, both tokens and the bot must be set. */
  public AppserviceOptions() {}

  /** A copy of {@code other} (the engine options are copied too). */
  public AppserviceOptions(AppserviceOptions other) {
    this.homeserverUrl = other.homeserverUrl;
    this.asToken = other.asToken;
    this.hsToken = other.hsToken;
    this.botLocalpart = other.botLocalpart;
    this.botDeviceId = other.botDeviceId;
    this.appserviceId = other.appserviceId;
    this.deviceModel = other.deviceModel;
    this.engine = new E2eeOptions(other.engine);
    this.maxOpenGhosts = other.maxOpenGhosts;
    this.maxGhostSetupsInFlight = other.maxGhostSetupsInFlight;
    this.maxTransactionBytes = other.maxTransactionBytes;
    this.rememberedTransactions = other.rememberedTransactions;
  }

  /** The homeserver's base URL, such as {@code http://127.0.0.1:8008}. */
  public String getHomeserverUrl() {
    return homeserverUrl;
  }

  /** Sets the homeserver's base URL. */
  public AppserviceOptions setHomeserverUrl(String homeserverUrl) {
    this.homeserverUrl = Objects.requireNonNull(homeserverUrl, "homeserverUrl");
    return this;
  }

  /** The registration's {@code as_token} (the appservice's credential). Secret: never log it. */
  public String getAsToken() {
    return asToken;
  }

  /** Sets the registration's {@code as_token}. */
  public AppserviceOptions setAsToken(String asToken) {
    this.asToken = requireToken(asToken, "asToken");
    return this;
  }

  /**
   * The registration's {@code hs_token}: the homeserver's credential on the transaction endpoint.
   * Secret: never log it.
   */
  public String getHsToken() {
    return hsToken;
  }

  /** Sets the registration's {@code hs_token}. */
  public AppserviceOptions setHsToken(String hsToken) {
    this.hsToken = requireToken(hsToken, "hsToken");
    return this;
  }

  /** The registration's {@code sender_localpart}: the bridge bot's localpart. */
  public String getBotLocalpart() {
    return botLocalpart;
  }

  /** Sets the bridge bot's localpart ({@code sender_localpart}). */
  public AppserviceOptions setBotLocalpart(String botLocalpart) {
    Objects.requireNonNull(botLocalpart, "botLocalpart");
    if (botLocalpart.isEmpty() || botLocalpart.startsWith("@") || botLocalpart.contains(":")) {
      throw new IllegalArgumentException("botLocalpart must be a bare localpart");
    }
    this.botLocalpart = botLocalpart;
    return this;
  }

  /**
   * The registration's {@code id}, or null: needed only by {@link AppserviceE2ee#ping()}, which
   * asks the homeserver to ping the endpoint (and so to retry transactions at once).
   */
  public String getAppserviceId() {
    return appserviceId;
  }

  /** Sets the registration's {@code id}. */
  public AppserviceOptions setAppserviceId(String appserviceId) {
    this.appserviceId = appserviceId;
    return this;
  }

  /**
   * The bridge bot's device id, or null (the default): a new one is generated on the first start
   * and remembered in the store.
   */
  public String getBotDeviceId() {
    return botDeviceId;
  }

  /** Sets the bridge bot's device id; null to generate and remember one. */
  public AppserviceOptions setBotDeviceId(String botDeviceId) {
    this.botDeviceId = botDeviceId;
    return this;
  }

  /** Which device encrypts a ghost's messages; default {@link DeviceModel#GHOST_DEVICES}. */
  public DeviceModel getDeviceModel() {
    return deviceModel;
  }

  /** Sets the device model. */
  public AppserviceOptions setDeviceModel(DeviceModel deviceModel) {
    this.deviceModel = Objects.requireNonNull(deviceModel, "deviceModel");
    return this;
  }

  /**
   * The engine options every device of the bridge uses (the options object itself, not a copy): the
   * store ({@link E2eeOptions#setStore}: one SQLite file or one PostgreSQL database for all
   * accounts), the pickle key (one for all), sharing strategy, rotation, key-request policy,
   * retries, late keys, metrics registry. Their recovery key file and account password apply to the
   * bridge bot's device only; ghosts never bootstrap secret storage or key backup. Their login and
   * homeserver URL are ignored.
   */
  public E2eeOptions getEngine() {
    return engine;
  }

  /** Sets the engine options (copied). */
  public AppserviceOptions setEngine(E2eeOptions engine) {
    this.engine = new E2eeOptions(Objects.requireNonNull(engine, "engine"));
    return this;
  }

  /**
   * At most this many ghost devices have their machine open at once (each holds a store connection
   * and a worker thread); the least recently used idle one is closed to open another, and reopened
   * from the store when needed. Default {@value #DEFAULT_MAX_OPEN_GHOSTS}, 1 to 100000.
   */
  public int getMaxOpenGhosts() {
    return maxOpenGhosts;
  }

  /** Sets {@link #getMaxOpenGhosts()}. */
  public AppserviceOptions setMaxOpenGhosts(int maxOpenGhosts) {
    this.maxOpenGhosts = inRange(maxOpenGhosts, 1, 100_000, "maxOpenGhosts");
    return this;
  }

  /**
   * At most this many ghosts are set up at once (registration, device creation, key and identity
   * upload, opening a machine); more wait in line. Default {@value
   * #DEFAULT_MAX_GHOST_SETUPS_IN_FLIGHT}, 1 to 1000.
   */
  public int getMaxGhostSetupsInFlight() {
    return maxGhostSetupsInFlight;
  }

  /** Sets {@link #getMaxGhostSetupsInFlight()}. */
  public AppserviceOptions setMaxGhostSetupsInFlight(int n) {
    this.maxGhostSetupsInFlight = inRange(n, 1, 1000, "maxGhostSetupsInFlight");
    return this;
  }

  /**
   * The largest transaction body accepted; a larger one is refused with 413 before it is parsed.
   * Default 32 MiB, 1 KiB to 1 GiB. Synapse sends at most 100 events, 100 ephemeral events and 100
   * to-device messages per transaction, far below this.
   */
  public long getMaxTransactionBytes() {
    return maxTransactionBytes;
  }

  /** Sets {@link #getMaxTransactionBytes()}. */
  public AppserviceOptions setMaxTransactionBytes(long maxTransactionBytes) {
    if (maxTransactionBytes < 1024 || maxTransactionBytes > (1L << 30)) {
      throw new IllegalArgumentException("maxTransactionBytes must be 1 KiB to 1 GiB");
    }
    this.maxTransactionBytes = maxTransactionBytes;
    return this;
  }

  /**
   * How many completed transaction ids are remembered (in the store, across restarts) so that a
   * transaction sent again is answered without being handled again. Default {@value
   * #DEFAULT_REMEMBERED_TRANSACTIONS}, 16 to 100000. Homeservers resend only their latest
   * unanswered transaction, so a small window suffices.
   */
  public int getRememberedTransactions() {
    return rememberedTransactions;
  }

  /** Sets {@link #getRememberedTransactions()}. */
  public AppserviceOptions setRememberedTransactions(int n) {
    this.rememberedTransactions = inRange(n, 16, 100_000, "rememberedTransactions");
    return this;
  }

  /**
   * Sets {@code as_token}, {@code hs_token}, {@code sender_localpart} and {@code id} from an
   * appservice registration file (YAML or JSON, the file the homeserver loads; at most 1 MiB).
   *
   * @return this
   * @throws IllegalArgumentException if the file cannot be read or lacks one of the three
   */
  public AppserviceOptions readRegistration(java.nio.file.Path registration) {
    Registration r = Registration.read(registration);
    setAsToken(r.asToken());
    setHsToken(r.hsToken());
    setBotLocalpart(r.senderLocalpart());
    if (r.id() != null) {
      setAppserviceId(r.id());
    }
    return this;
  }

  /**
   * Checks that everything required is set.
   *
   * @throws IllegalArgumentException naming the first missing option
   */
  public void validate() {
    if (homeserverUrl == null) {
      throw new IllegalArgumentException("appservice: homeserverUrl is required");
    }
    if (asToken == null || hsToken == null) {
      throw new IllegalArgumentException("appservice: asToken and hsToken are required");
    }
    if (botLocalpart == null) {
      throw new IllegalArgumentException("appservice: botLocalpart is required");
    }
  }

  private static String requireToken(String token, String name) {
    Objects.requireNonNull(token, name);
    if (token.isEmpty()) {
      throw new IllegalArgumentException(name + " is empty");
    }
    return token;
  }

  private static int inRange(int v, int min, int max, String name) {
    if (v < min || v > max) {
      throw new IllegalArgumentException(name + " must be " + min + " to " + max + ", was " + v);
    }
    return v;
  }

  /** The options without the tokens. */
  @Override
  public String toString() {
    return "AppserviceOptions{homeserverUrl="
        + homeserverUrl
        + ", botLocalpart="
        + botLocalpart
        + ", deviceModel="
        + deviceModel
        + ", maxOpenGhosts="
        + maxOpenGhosts
        + ", maxGhostSetupsInFlight="
        + maxGhostSetupsInFlight
        + "}";
  }
}
