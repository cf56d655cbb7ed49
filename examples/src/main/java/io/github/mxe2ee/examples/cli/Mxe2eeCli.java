package io.github.mxe2ee.examples.cli;

import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.PickleKey;
import io.github.mxe2ee.store.PickleKeySource;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code mxe2ee}: the operator's tool for the bot's crypto store (docs/IDENTITY.md, "Verify a
 * device by fingerprint"). Run it with {@code bash scripts/mxe2ee.sh}.
 *
 * <pre>
 * mxe2ee [store options] status
 * mxe2ee [store options] [server options] verify-device DEVICE_ID FINGERPRINT...
 *
 * store options:  --user @bot:example.org --device-id BOTDEVICE
 *                 --store-dir DIR   (DIR/mxe2ee.db and DIR/pickle.key: the echo bot's layout)
 *              or --store FILE.db --pickle-key-file FILE   (or MXE2EE_PICKLE_KEY in the environment)
 * server options: --homeserver URL, and --access-token-file FILE (a token of the bot's user)
 *                 or the bot's password in MXE2EE_PASSWORD / --password-file FILE (a temporary
 *                 device logs in for the signature upload and is logged out again)
 * </pre>
 *
 * <p>{@code status} prints the bot's device fingerprint, its cross-signing identity (master key,
 * whether the store holds its private keys) and the own devices the store knows, with their trust.
 * {@code verify-device} checks that the fingerprint the operator typed (spaces allowed, as clients
 * group it) is exactly the device's Ed25519 key, signs the device with the bot's self-signing key,
 * uploads the signature and marks the device verified in the store.
 *
 * <p>Safety: the store is opened only if it exists (never created) and only while the bot is
 * stopped: the store's device lock refuses a second opener, so the tool exits with status 3 while
 * the bot runs. No secret (pickle key, password, token, private key) is printed. Exit status: 0
 * done, 2 usage, 3 store locked or unusable, 4 unknown device, 5 fingerprint mismatch, 6 no
 * cross-signing keys, 7 server failure.
 */
public final class Mxe2eeCli {
  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  private Mxe2eeCli(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /** A failure with its exit status; the message is printed to stderr. */
  static final class Exit extends RuntimeException {
    final int status;

    Exit(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  /** Entry point; exits with the status of {@link #run}. */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err, System.getenv()));
  }

  /**
   * Runs one command.
   *
   * @return the exit status (see the class documentation)
   */
  public static int run(
      String[] args, PrintStream out, PrintStream err, Map<String, String> environment) {
    Mxe2eeCli cli = new Mxe2eeCli(out, err, environment);
    try {
      cli.execute(CliArgs.parse(args));
      return 0;
    } catch (Exit e) {
      err.println("mxe2ee: " + e.getMessage());
      return e.status;
    }
  }

  private void execute(CliArgs a) {
    switch (a.command()) {
      case "status" -> withMachine(a, this::status);
      case "verify-device" -> withMachine(a, m -> verifyDevice(a, m));
      default -> throw new Exit(2, "unknown command '" + a.command() + "'\n" + CliArgs.USAGE);
    }
  }

  private interface MachineAction {
    void run(OlmMachine machine);
  }

  /** Opens the existing store (refused while the bot holds its lock), runs, closes. */
  private void withMachine(CliArgs a, MachineAction action) {
    Path db = a.storeFile();
    if (!Files.isRegularFile(db)) {
      throw new Exit(3, "no store at " + db + " (the tool never creates one)");
    }
    PickleKey key;
    try {
      key = pickleKey(a).load();
    } catch (RuntimeException e) {
      throw new Exit(3, "pickle key: " + e.getMessage());
    }
    SqliteCryptoStore store;
    try {
      store = SqliteCryptoStore.open(db, AccountId.of(a.user(), a.deviceId()));
    } catch (StoreException e) {
      if (e.reason() == StoreException.Reason.LOCKED) {
        throw new Exit(3, "the store is in use (is the bot running?): stop the bot first");
      }
      throw new Exit(3, "cannot open the store: " + e.getMessage());
    }
    try (store;
        OlmMachine machine =
            OlmMachine.open(
                MachineConfig.of(a.user(), a.deviceId(), key.exposeSecretBytes()), store)) {
      action.run(machine);
    }
  }

  private PickleKeySource pickleKey(CliArgs a) {
    Path file = a.pickleKeyFile();
    if (file != null && Files.isRegularFile(file)) {
      return PickleKeySource.fromKeyFile(file, new SecureRandom());
    }
    if (env.get(PickleKeySource.ENV_VARIABLE) != null) {
      return PickleKeySource.fromEnvironment(env);
    }
    throw new Exit(3, "no pickle key: " + file + " does not exist and MXE2EE_PICKLE_KEY is unset");
  }

  // ------------------------------------------------------------------ status

  private void status(OlmMachine m) {
    out.println("bot device:   " + m.userId() + " " + m.deviceId());
    out.println("fingerprint:  " + group(m.identityKeys().ed25519().toBase64()));
    String master = m.masterKey(m.userId()).map(k -> group(k.toBase64())).orElse(null);
    if (master == null) {
      out.println(
          "identity:     "
              + (m.hasCrossSigningKeys()
                  ? "created, not yet seen on the server"
                  : "none (start the bot with a recovery key file)"));
    } else {
      out.println("master key:   " + master);
      out.println(
          "identity:     "
              + (m.hasCrossSigningKeys()
                  ? "cross-signing private keys held by this store"
                  : "the store does not hold the private keys of this identity"));
    }
    out.println("own devices:");
    List<OlmMachine.DeviceInfo> devices = new ArrayList<>(m.devices(m.userId()));
    devices.sort((x, y) -> x.keys().deviceId().compareTo(y.keys().deviceId()));
    for (OlmMachine.DeviceInfo d : devices) {
      out.println(
          "  "
              + d.keys().deviceId()
              + "  "
              + group(d.keys().ed25519().toBase64())
              + "  "
              + (d.keys().deviceId().equals(m.deviceId()) ? "(this bot)" : d.trust().name()));
    }
  }

  /** Groups a fingerprint by 4 characters, as Element shows it. */
  static String group(String fingerprint) {
    return String.join(" ", fingerprint.split("(?<=\\G.{4})"));
  }

  // ------------------------------------------------------------------ verify-device

  private void verifyDevice(CliArgs a, OlmMachine m) {
    String device = a.positional(0, "DEVICE_ID");
    String typed = a.rest(1, "FINGERPRINT").replaceAll("\\s+", "");
    if (device.equals(m.deviceId())) {
      throw new Exit(2, "that is the bot's own device");
    }
    OlmMachine.DeviceInfo info =
        m.device(m.userId(), device)
            .orElseThrow(
                () ->
                    new Exit(
                        4,
                        "the store does not know device "
                            + device
                            + " of "
                            + m.userId()
                            + ": start the bot once after the device logged in (it then fetches"
                            + " its keys), stop it and try again"));
    if (!info.keys().ed25519().toBase64().equals(typed)) {
      throw new Exit(
          5,
          "the fingerprint does not match device "
              + device
              + "'s Ed25519 key: nothing signed. Compare it again in the device's settings");
    }
    if (!m.hasCrossSigningKeys()) {
      throw new Exit(
          6,
          "this store holds no cross-signing keys: start the bot with a recovery key file first");
    }
    OutgoingRequest upload = m.verifyOwnDevice(device, typed);
    String response;
    try (ServerSession server = ServerSession.open(a, env, m.userId())) {
      response = server.post(upload.path(), upload.bodyJson());
    } catch (IOException e) {
      throw new Exit(7, "the signature upload failed: " + e.getMessage());
    }
    com.fasterxml.jackson.databind.JsonNode answer;
    try {
      answer = new com.fasterxml.jackson.databind.ObjectMapper().readTree(response);
    } catch (IOException e) {
      throw new Exit(7, "the server's answer to the signature upload is not JSON");
    }
    if (answer.path("failures").size() > 0) {
      throw new Exit(7, "the server refused the signature: " + answer.path("failures"));
    }
    m.markRequestAsSent(upload.requestId(), upload.type(), answer);
    m.setLocalTrust(m.userId(), device, LocalTrust.VERIFIED);
    out.println(
        "device "
            + device
            + " verified and signed with the self-signing key of "
            + m.userId()
            + "; other clients see it signed by its owner after their next key query");
  }
}
