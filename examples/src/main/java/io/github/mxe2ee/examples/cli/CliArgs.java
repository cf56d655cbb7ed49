package io.github.mxe2ee.examples.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The parsed command line of {@link Mxe2eeCli}: options, a command and its arguments. */
record CliArgs(Map<String, String> options, String command, List<String> args) {

  static final String USAGE =
      """
      usage: mxe2ee --user @bot:server --device-id ID (--store-dir DIR | --store FILE \
      --pickle-key-file FILE) COMMAND
        status                              the bot's fingerprint, identity and own devices
        verify-device DEVICE FINGERPRINT    sign an own device whose Ed25519 fingerprint you
                                            compared (needs --homeserver and --access-token-file,
                                            or the password in MXE2EE_PASSWORD or --password-file)
      The bot must be stopped (its store is locked while it runs).""";

  private static final Set<String> OPTIONS =
      Set.of(
          "--user",
          "--device-id",
          "--store-dir",
          "--store",
          "--pickle-key-file",
          "--homeserver",
          "--access-token-file",
          "--password-file");

  static CliArgs parse(String[] argv) {
    Map<String, String> options = new HashMap<>();
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.equals("-h") || a.equals("--help")) {
        throw new Mxe2eeCli.Exit(2, USAGE);
      }
      if (a.startsWith("--") && rest.isEmpty()) {
        if (!OPTIONS.contains(a)) {
          throw new Mxe2eeCli.Exit(2, "unknown option " + a + "\n" + USAGE);
        }
        if (i + 1 >= argv.length) {
          throw new Mxe2eeCli.Exit(2, a + " needs a value");
        }
        options.put(a, argv[++i]);
      } else {
        rest.add(a);
      }
    }
    if (rest.isEmpty()) {
      throw new Mxe2eeCli.Exit(2, "no command\n" + USAGE);
    }
    CliArgs args = new CliArgs(options, rest.get(0), List.copyOf(rest.subList(1, rest.size())));
    args.user();
    args.deviceId();
    return args;
  }

  String required(String option) {
    String v = options.get(option);
    if (v == null || v.isBlank()) {
      throw new Mxe2eeCli.Exit(2, option + " is required\n" + USAGE);
    }
    return v;
  }

  String user() {
    String u = required("--user");
    if (!u.startsWith("@") || !u.contains(":")) {
      throw new Mxe2eeCli.Exit(2, "--user: expected a full user id (@name:server)");
    }
    return u;
  }

  String deviceId() {
    return required("--device-id");
  }

  Path storeFile() {
    if (options.containsKey("--store")) {
      return Path.of(options.get("--store"));
    }
    return Path.of(required("--store-dir")).resolve("mxe2ee.db");
  }

  Path pickleKeyFile() {
    if (options.containsKey("--pickle-key-file")) {
      return Path.of(options.get("--pickle-key-file"));
    }
    String dir = options.get("--store-dir");
    return dir == null ? null : Path.of(dir).resolve("pickle.key");
  }

  String positional(int i, String name) {
    if (args.size() <= i) {
      throw new Mxe2eeCli.Exit(2, command + ": " + name + " is missing\n" + USAGE);
    }
    return args.get(i);
  }

  /** Arguments from {@code i} on, joined by spaces (a fingerprint typed in groups). */
  String rest(int i, String name) {
    positional(i, name);
    return String.join(" ", args.subList(i, args.size()));
  }
}
