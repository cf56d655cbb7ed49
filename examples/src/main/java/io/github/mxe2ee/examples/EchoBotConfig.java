package io.github.mxe2ee.examples;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Settings of the {@link EchoBot}: homeserver URL, user, password, device id and recovery key file.
 *
 * <p>Resolution order, first non-empty wins per field: command-line arguments ({@code --homeserver
 * URL --user NAME --password PASS --device ID --recovery-key-file FILE}), environment ({@code
 * MXE2EE_HOMESERVER}, {@code MXE2EE_BOT_USER}, {@code MXE2EE_BOT_PASSWORD}, {@code
 * MXE2EE_BOT_DEVICE}, {@code MXE2EE_BOT_RECOVERY_KEY_FILE}), then the JSON file given by {@code
 * --config FILE} or {@code MXE2EE_BOT_CONFIG} (default {@value #DEFAULT_FILE}, skipped when absent)
 * with keys {@code homeserver}, {@code user}, {@code password}, {@code deviceId}, {@code
 * recoveryKeyFile}. Without a recovery key file the bot uses one per user under {@link
 * EchoBot#DEFAULT_STORE_DIR} (docs/IDENTITY.md).
 *
 * <p>Immutable and thread-safe. {@link #toString()} omits the password. {@link #resolve} throws
 * {@link IllegalArgumentException} for an unknown or incomplete argument, an unreadable or
 * malformed file, or a missing homeserver, user or password.
 */
public final class EchoBotConfig {

  /** Config file read when neither {@code --config} nor {@code MXE2EE_BOT_CONFIG} is given. */
  public static final String DEFAULT_FILE = "config/echo-bot.json";

  private final String homeserver;
  private final String user;
  private final String password;
  private final String deviceId;
  private final String recoveryKeyFile;

  /**
   * @param homeserver base URL, not null
   * @param user localpart or user id, not null
   * @param password password, not null
   * @param deviceId device id to reuse, or null to reuse the one the bot saved on its first login
   *     ({@link EchoBot#deviceIdFile}), or get a new one from the server on the very first
   */
  public EchoBotConfig(String homeserver, String user, String password, String deviceId) {
    this(homeserver, user, password, deviceId, null);
  }

  /**
   * @param homeserver base URL, not null
   * @param user localpart or user id, not null
   * @param password password, not null
   * @param deviceId device id to reuse, or null for a new device per login
   * @param recoveryKeyFile the recovery key file, or null for the default per user
   */
  public EchoBotConfig(
      String homeserver, String user, String password, String deviceId, String recoveryKeyFile) {
    this.homeserver = Objects.requireNonNull(homeserver, "homeserver");
    this.user = Objects.requireNonNull(user, "user");
    this.password = Objects.requireNonNull(password, "password");
    this.deviceId = deviceId;
    this.recoveryKeyFile = recoveryKeyFile;
  }

  /**
   * Resolves the settings from arguments, environment and file, in that order.
   *
   * @param args command-line arguments
   * @param env environment, usually {@link System#getenv()}
   */
  public static EchoBotConfig resolve(String[] args, Map<String, String> env) {
    String[] fromArgs = new String[6]; // homeserver, user, password, device, config, recovery
    for (int i = 0; i < args.length; i++) {
      int slot;
      switch (args[i]) {
        case "--homeserver":
          slot = 0;
          break;
        case "--user":
          slot = 1;
          break;
        case "--password":
          slot = 2;
          break;
        case "--device":
          slot = 3;
          break;
        case "--config":
          slot = 4;
          break;
        case "--recovery-key-file":
          slot = 5;
          break;
        default:
          throw new IllegalArgumentException(
              "unknown argument '"
                  + args[i]
                  + "', expected --homeserver, --user, --password, --device, --config or"
                  + " --recovery-key-file");
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      fromArgs[slot] = args[++i];
    }
    String file = first(fromArgs[4], env.get("MXE2EE_BOT_CONFIG"));
    JsonObject fromFile = readFile(file == null ? DEFAULT_FILE : file, file != null);
    String homeserver =
        first(fromArgs[0], env.get("MXE2EE_HOMESERVER"), fromFile.getString("homeserver"));
    String user = first(fromArgs[1], env.get("MXE2EE_BOT_USER"), fromFile.getString("user"));
    String password =
        first(fromArgs[2], env.get("MXE2EE_BOT_PASSWORD"), fromFile.getString("password"));
    String device =
        first(fromArgs[3], env.get("MXE2EE_BOT_DEVICE"), fromFile.getString("deviceId"));
    String recovery =
        first(
            fromArgs[5],
            env.get("MXE2EE_BOT_RECOVERY_KEY_FILE"),
            fromFile.getString("recoveryKeyFile"));
    if (homeserver == null || user == null || password == null) {
      throw new IllegalArgumentException(
          "homeserver, user and password are required (arguments, MXE2EE_* environment or "
              + DEFAULT_FILE
              + ")");
    }
    return new EchoBotConfig(homeserver, user, password, device, recovery);
  }

  private static JsonObject readFile(String file, boolean mustExist) {
    Path path = Path.of(file);
    if (!Files.exists(path)) {
      if (mustExist) {
        throw new IllegalArgumentException("config file " + file + " does not exist");
      }
      return new JsonObject();
    }
    try {
      return new JsonObject(Files.readString(path, StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("config file " + file + " is not a readable JSON object");
    }
  }

  private static String first(String... values) {
    for (String v : values) {
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  /** Homeserver base URL. */
  public String homeserver() {
    return homeserver;
  }

  /** Localpart or full user id. */
  public String user() {
    return user;
  }

  /** Password. Secret: never log it. */
  public String password() {
    return password;
  }

  /** Device id to reuse, or null (then the bot's saved one, see {@link EchoBot#deviceIdFile}). */
  public String deviceId() {
    return deviceId;
  }

  /** The recovery key file, or null for the default per user. */
  public String recoveryKeyFile() {
    return recoveryKeyFile;
  }

  @Override
  public String toString() {
    return "EchoBotConfig[" + homeserver + ", " + user + ", device " + deviceId + "]";
  }
}
