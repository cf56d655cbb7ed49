package io.github.mxe2ee.examples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The CLI's authenticated access to the homeserver, for the one request it sends: with an access
 * token of the bot's user (from a file), or with the bot's password (a temporary device logs in and
 * is logged out again on {@link #close()}). The token and password never appear in messages.
 */
final class ServerSession implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** Largest response read (the answers here are small JSON objects). */
  private static final int MAX_RESPONSE_BYTES = 1 << 20;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private final String baseUrl;
  private final String token;
  private final boolean temporary;

  private ServerSession(String baseUrl, String token, boolean temporary) {
    this.baseUrl = baseUrl;
    this.token = token;
    this.temporary = temporary;
  }

  static ServerSession open(CliArgs a, Map<String, String> env, String userId) throws IOException {
    String base = a.required("--homeserver").replaceAll("/+$", "");
    if (!base.startsWith("http://") && !base.startsWith("https://")) {
      throw new Mxe2eeCli.Exit(2, "--homeserver: expected an http(s) URL");
    }
    String tokenFile = a.options().get("--access-token-file");
    if (tokenFile != null) {
      ServerSession s = new ServerSession(base, secret(Path.of(tokenFile)), false);
      String who = s.send("GET", "/_matrix/client/v3/account/whoami", null);
      if (!who.contains("\"" + userId + "\"")) {
        throw new Mxe2eeCli.Exit(2, "the access token is not one of " + userId);
      }
      return s;
    }
    String password =
        a.options().containsKey("--password-file")
            ? secret(Path.of(a.options().get("--password-file")))
            : env.get("MXE2EE_PASSWORD");
    if (password == null || password.isEmpty()) {
      throw new Mxe2eeCli.Exit(
          2, "give --access-token-file, or the password in MXE2EE_PASSWORD or --password-file");
    }
    String body =
        "{\"type\":\"m.login.password\",\"identifier\":{\"type\":\"m.id.user\",\"user\":"
            + quote(userId)
            + "},\"password\":"
            + quote(password)
            + ",\"initial_device_display_name\":\"mxe2ee cli (temporary)\"}";
    String login =
        new ServerSession(base, null, false).send("POST", "/_matrix/client/v3/login", body);
    var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(login);
    String token = json.path("access_token").asText(null);
    if (token == null) {
      throw new IOException("login answered without an access token");
    }
    return new ServerSession(base, token, true);
  }

  /** POSTs a JSON body; returns the response body. */
  String post(String path, String json) throws IOException {
    return send("POST", path, json);
  }

  private String send(String method, String path, String json) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(TIMEOUT)
            .header("Content-Type", "application/json")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<InputStream> resp;
    try {
      resp = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    String body;
    try (InputStream in = resp.body()) {
      byte[] bytes = in.readNBytes(MAX_RESPONSE_BYTES + 1);
      if (bytes.length > MAX_RESPONSE_BYTES) {
        throw new IOException(path + ": response larger than " + MAX_RESPONSE_BYTES + " bytes");
      }
      body = new String(bytes, StandardCharsets.UTF_8);
    }
    if (resp.statusCode() / 100 != 2) {
      String errcode = body.replaceAll("(?s).*\"errcode\"\\s*:\\s*\"([A-Z_]{1,64})\".*", "$1");
      throw new IOException(
          path + ": HTTP " + resp.statusCode() + (errcode.equals(body) ? "" : " " + errcode));
    }
    return body;
  }

  private static String secret(Path file) throws IOException {
    if (Files.size(file) > 64 * 1024) {
      throw new IOException(file + " is larger than 64 KiB");
    }
    String s = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (s.isEmpty()) {
      throw new IOException(file + " is empty");
    }
    return s;
  }

  private static String quote(String s) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Logs a temporary device out (the server deletes it); a token from a file stays valid. */
  @Override
  public void close() throws IOException {
    if (temporary) {
      send("POST", "/_matrix/client/v3/logout", "{}");
    }
  }
}
