package io.github.mxe2ee.examples.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What the example bridge reads from the appservice registration file besides the tokens (which
 * {@link io.github.mxe2ee.plugin.appservice.AppserviceOptions#readRegistration} takes): the {@code
 * url} the homeserver pushes transactions to, which the bridge listens on, and the exclusive user
 * namespace its ghosts must stay in.
 *
 * @param listenHost host of {@code url}
 * @param listenPort port of {@code url}
 * @param userNamespace the first exclusive {@code namespaces.users} regex
 */
public record BridgeRegistration(
    String id, String listenHost, int listenPort, Pattern userNamespace) {

  /** A registration file is a few hundred bytes; refuse anything absurd before parsing. */
  static final long MAX_FILE_BYTES = 1 << 20;

  /**
   * Reads the file.
   *
   * @throws IllegalArgumentException naming the file and the field when something is missing or
   *     invalid (an {@code http} url with a host and port, an exclusive user regex)
   */
  public static BridgeRegistration read(Path file) {
    JsonNode root;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new IllegalArgumentException(file + ": over 1 MiB");
      }
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new IllegalArgumentException(
          file + ": unreadable (" + e.getClass().getSimpleName() + ")");
    }
    if (root == null || !root.path("url").isTextual()) {
      throw new IllegalArgumentException(file + ": 'url' missing");
    }
    URI url;
    try {
      url = URI.create(root.path("url").textValue());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": 'url' is not a URL");
    }
    if (!"http".equals(url.getScheme()) || url.getHost() == null || url.getPort() < 1) {
      throw new IllegalArgumentException(
          file + ": 'url' must be http://HOST:PORT (the address this bridge listens on)");
    }
    Pattern namespace = null;
    for (JsonNode ns : root.path("namespaces").path("users")) {
      if (ns.path("exclusive").asBoolean(false) && ns.path("regex").isTextual()) {
        try {
          namespace = Pattern.compile(ns.path("regex").textValue());
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException(file + ": namespaces.users regex is invalid");
        }
        break;
      }
    }
    if (namespace == null) {
      throw new IllegalArgumentException(
          file + ": no exclusive namespaces.users regex (the ghosts need one)");
    }
    if (!root.path("id").isTextual() || root.path("id").textValue().isEmpty()) {
      throw new IllegalArgumentException(file + ": 'id' missing");
    }
    return new BridgeRegistration(
        root.path("id").textValue(), url.getHost(), url.getPort(), namespace);
  }
}
