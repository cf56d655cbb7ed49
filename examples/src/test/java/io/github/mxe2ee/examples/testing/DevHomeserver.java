package io.github.mxe2ee.examples.testing;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The local Synapse from {@code scripts/dev-homeserver.sh}, shared by every test in one JVM.
 *
 * <p>{@link #shared()} reuses a server that is already running (and then leaves it running), or
 * starts one and stops it from a JVM shutdown hook, so a whole test run pays the start-up once.
 * {@link #register} creates users through Synapse's shared-secret admin API ({@code
 * /_synapse/admin/v1/register}: fetch a nonce, then send an HMAC-SHA1 over {@code
 * nonce\0user\0password\0admin|notadmin} keyed with {@code registration_shared_secret}).
 *
 * <p>Thread-safe. Errors: {@link IllegalStateException} when the script fails, with its output.
 */
public final class DevHomeserver {

  /** Upper bound for one script call; the script itself bounds Synapse start-up at 120 s. */
  public static final long SCRIPT_TIMEOUT_S = 240;

  private static DevHomeserver shared;

  private final Path root;
  private final String baseUrl;
  private final boolean startedHere;

  private DevHomeserver(Path root, String baseUrl, boolean startedHere) {
    this.root = root;
    this.baseUrl = baseUrl;
    this.startedHere = startedHere;
  }

  /** The JVM-wide instance, started on first use. */
  public static synchronized DevHomeserver shared() {
    if (shared == null) {
      Path root = ProjectPaths.root();
      boolean running = run(root, "status").exitCode == 0;
      String url = lastLine(run(root, "start").checked("start").output);
      DevHomeserver hs = new DevHomeserver(root, url, !running);
      if (hs.startedHere) {
        Runtime.getRuntime().addShutdownHook(new Thread(hs::stop, "dev-homeserver-stop"));
      }
      shared = hs;
    }
    return shared;
  }

  /** Base URL such as {@code http://127.0.0.1:41234}, no trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  /** The server name users live on. */
  public String serverName() {
    return "localhost";
  }

  /** True when this JVM started the server (and will stop it on exit). */
  public boolean startedHere() {
    return startedHere;
  }

  /** The script's {@code status} line, e.g. {@code running http://127.0.0.1:41234 pid 123}. */
  public String status() {
    return run(root, "status").output.trim();
  }

  /** Stops the server if this JVM started it. */
  public void stop() {
    if (startedHere) {
      run(root, "stop");
    }
  }

  /** The {@code registration_shared_secret} of the dev server. */
  public String sharedSecret() {
    try {
      for (String line :
          Files.readAllLines(root.resolve(".run/synapse/secrets.env"), StandardCharsets.UTF_8)) {
        if (line.startsWith("REGISTRATION_SHARED_SECRET=")) {
          return line.substring("REGISTRATION_SHARED_SECRET=".length()).trim();
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read .run/synapse/secrets.env", e);
    }
    throw new IllegalStateException("no REGISTRATION_SHARED_SECRET in .run/synapse/secrets.env");
  }

  /**
   * A top-level scalar of the effective appservice registration ({@code
   * .run/synapse/appservice-registration.yaml}, copied from {@code
   * config/appservice-registration.yaml}), e.g. {@code as_token}, {@code hs_token}, {@code
   * sender_localpart}, {@code url}.
   *
   * @throws IllegalStateException when the file or the key is missing
   */
  public String appserviceSetting(String key) {
    Path file = root.resolve(".run/synapse/appservice-registration.yaml");
    try {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (line.startsWith(key + ":")) {
          String v = line.substring(key.length() + 1).trim();
          return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")
              ? v.substring(1, v.length() - 1)
              : v;
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
    throw new IllegalStateException("no top-level '" + key + "' in " + file);
  }

  /**
   * Registers a user through the shared-secret admin API.
   *
   * @return the registration response ({@code user_id}, {@code access_token}, {@code device_id})
   */
  public Future<JsonObject> register(
      WebClient client, String localpart, String password, boolean admin) {
    String url = baseUrl + "/_synapse/admin/v1/register";
    return client
        .getAbs(url)
        .send()
        .map(r -> ok(r, "GET nonce").getString("nonce"))
        .compose(
            nonce ->
                client
                    .postAbs(url)
                    .sendJsonObject(
                        new JsonObject()
                            .put("nonce", nonce)
                            .put("username", localpart)
                            .put("password", password)
                            .put("admin", admin)
                            .put("mac", mac(nonce, localpart, password, admin))))
        .map(r -> ok(r, "POST register " + localpart));
  }

  private String mac(String nonce, String user, String password, boolean admin) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(sharedSecret().getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      String msg = nonce + "\0" + user + "\0" + password + "\0" + (admin ? "admin" : "notadmin");
      return HexFormat.of().formatHex(mac.doFinal(msg.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 unavailable", e);
    }
  }

  private static JsonObject ok(HttpResponse<?> r, String what) {
    if (r.statusCode() != 200) {
      throw new IllegalStateException(what + ": HTTP " + r.statusCode() + " " + r.bodyAsString());
    }
    return r.bodyAsJsonObject();
  }

  private static String lastLine(String s) {
    String[] lines = s.trim().split("\n");
    return lines[lines.length - 1].trim();
  }

  /** Runs {@code scripts/dev-homeserver.sh ARGS} and captures stdout (stderr goes to ours). */
  static Result run(Path root, String... args) {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add("bash");
    cmd.add(root.resolve("scripts/dev-homeserver.sh").toString());
    cmd.addAll(List.of(args));
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(root.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(SCRIPT_TIMEOUT_S, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("dev-homeserver.sh " + String.join(" ", args) + " hung");
      }
      return new Result(p.exitValue(), out, String.join(" ", args));
    } catch (IOException e) {
      throw new IllegalStateException("cannot run dev-homeserver.sh", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running dev-homeserver.sh", e);
    }
  }

  static final class Result {
    final int exitCode;
    final String output;
    final String args;

    Result(int exitCode, String output, String args) {
      this.exitCode = exitCode;
      this.output = output;
      this.args = args;
    }

    Result checked(String what) {
      if (exitCode != 0) {
        throw new IllegalStateException(
            "dev-homeserver.sh " + args + " exited " + exitCode + ": " + output);
      }
      return this;
    }
  }
}
