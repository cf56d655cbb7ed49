package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * One Rust {@code OlmMachine} (matrix-sdk-crypto via {@code @matrix-org/matrix-sdk-crypto-wasm},
 * Element's crypto) in a Node child process, driven over the JSON-lines protocol of {@code
 * interop/node/rust-machine-peer.mjs} (documented in {@code docs/interop-protocol.md}, section
 * "Rust OlmMachine peer").
 *
 * <p>{@link #call} sends one request and waits for its reply; error replies throw {@link
 * PeerException} with the peer's {@code kind}. On top of the raw ops this class adds the glue a
 * homeserver client would do with an {@link InMemoryRouter}: {@link #pump} sends every outgoing
 * request through the router and feeds the responses back, {@link #sync} delivers the router's sync
 * changes, {@link #establishSessions} claims one-time keys.
 *
 * <p>Not thread-safe: one test thread drives one peer. {@link #close} ends the process.
 * Construction skips the calling test (JUnit assumption, with the reason) when {@code
 * interop/node/node_modules} is not installed, unless {@value #REQUIRE_ENV}{@code =true} asks for a
 * failure instead; it fails when the dependencies are installed but broken.
 */
public final class RustMachinePeer implements RoutedMachine {
  /**
   * Replies of the wasm machine take milliseconds in scenarios; a minute means the peer hung.
   * Benchmarks that hand the machine thousands of devices at once raise it with the system property
   * {@code mxe2ee.peer.timeoutSeconds}.
   */
  public static final long REPLY_TIMEOUT_SECONDS = Long.getLong("mxe2ee.peer.timeoutSeconds", 60);

  /**
   * Outgoing requests answer each other (upload, then query, then claim); more rounds is a loop.
   */
  public static final int MAX_PUMP_ROUNDS = 20;

  /**
   * Environment variable that turns the skip into a failure when the Node dependencies are missing
   * ({@code MXE2EE_REQUIRE_INTEROP=true}), for CI runs that must exercise the interop.
   */
  public static final String REQUIRE_ENV = "MXE2EE_REQUIRE_INTEROP";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final int STDERR_LINES_KEPT = 50;
  private static final long POLL_MILLIS = 100;

  private final Process process;
  private final BufferedWriter stdin;
  private final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  private final Deque<String> stderrTail = new ArrayDeque<>();
  private long nextId;
  private double lastElapsedMillis = Double.NaN;
  private String userId;
  private String deviceId;

  /** An error reply of the peer: {@link #kind()} is the peer's error kind. */
  public static final class PeerException extends Mxe2eeException {
    private static final long serialVersionUID = 1L;
    private final transient ObjectNode error;

    PeerException(ObjectNode error) {
      super(error.path("kind").asText("unknown"), error.path("message").asText(""));
      this.error = error;
    }

    /** The whole error object of the reply (kind, message and op-specific fields). */
    public ObjectNode error() {
      return error.deepCopy();
    }
  }

  private RustMachinePeer(Path script) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(nodeBinary(), script.getFileName().toString());
    pb.directory(script.getParent().toFile());
    process = pb.start();
    stdin =
        new BufferedWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
    Thread out =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  replies.add(line);
                }
              } catch (IOException e) {
                // the process ended; call() reports the missing reply
              }
            },
            "rust-peer-stdout");
    Thread err =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (stderrTail) {
                    stderrTail.add(line);
                    if (stderrTail.size() > STDERR_LINES_KEPT) {
                      stderrTail.removeFirst();
                    }
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "rust-peer-stderr");
    out.setDaemon(true);
    err.setDaemon(true);
    out.start();
    err.start();
  }

  /**
   * Starts a peer process (no machine yet; see {@link #init}). Skips the test with an explicit
   * reason if the Node dependencies are not installed.
   */
  public static RustMachinePeer start() {
    Path script = locateScript();
    Path modules =
        script.getParent().resolve("node_modules/@matrix-org/matrix-sdk-crypto-wasm/package.json");
    if (!Files.isRegularFile(modules)) {
      String why =
          modules + " is missing; run `npm ci` in interop/node (the setup script does it in CI)";
      if ("true".equalsIgnoreCase(System.getenv(REQUIRE_ENV))) {
        throw new IllegalStateException("Rust OlmMachine interop required but " + why);
      }
      Assumptions.abort("Rust OlmMachine interop skipped: " + why);
    }
    try {
      return new RustMachinePeer(script);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start node for " + script, e);
    }
  }

  /** Starts a peer and initialises its machine for {@code userId}/{@code deviceId}. */
  public static RustMachinePeer start(String userId, String deviceId) {
    RustMachinePeer peer = start();
    try {
      peer.init(userId, deviceId);
    } catch (RuntimeException e) {
      peer.close();
      throw e;
    }
    return peer;
  }

  /** {@code interop/node/rust-machine-peer.mjs}, found by walking up from the working directory. */
  public static Path locateScript() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      Path candidate = p.resolve("interop/node/rust-machine-peer.mjs");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "interop/node/rust-machine-peer.mjs not found above " + dir + " (run from the repository)");
  }

  private static String nodeBinary() {
    String configured = System.getenv("MXE2EE_NODE");
    return configured != null && !configured.isBlank() ? configured : "node";
  }

  // ---------------------------------------------------------------- raw protocol

  /**
   * Sends {@code {"id": n, "op": op, ...params}} and returns the reply's {@code result}.
   *
   * @throws PeerException on an error reply
   * @throws IllegalStateException if the peer does not answer within {@link #REPLY_TIMEOUT_SECONDS}
   *     or answers out of order
   */
  public ObjectNode call(String op, ObjectNode params) {
    long id = ++nextId;
    ObjectNode request = params == null ? MAPPER.createObjectNode() : params.deepCopy();
    request.put("id", id);
    request.put("op", op);
    String line;
    try {
      stdin.write(MAPPER.writeValueAsString(request));
      stdin.write('\n');
      stdin.flush();
      line = awaitReply();
    } catch (IOException e) {
      throw new IllegalStateException("peer closed its input during " + op + stderr(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for " + op, e);
    }
    if (line == null) {
      throw new IllegalStateException(
          "no reply to "
              + op
              + (process.isAlive() ? " within the timeout" : ": the peer exited")
              + stderr());
    }
    ObjectNode reply;
    try {
      reply = (ObjectNode) MAPPER.readTree(line);
    } catch (IOException | ClassCastException e) {
      throw new IllegalStateException("peer wrote a non-JSON line for " + op + ": " + line, e);
    }
    if (reply.path("id").asLong(-1) != id) {
      throw new IllegalStateException("reply id " + reply.get("id") + " for request " + id);
    }
    if (reply.has("error")) {
      lastElapsedMillis = Double.NaN;
      throw new PeerException((ObjectNode) reply.get("error"));
    }
    lastElapsedMillis = reply.path("elapsed_ms").asDouble(Double.NaN);
    return (ObjectNode) reply.get("result");
  }

  /** Waits for the next reply line; gives up early when the process has died. */
  private String awaitReply() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(REPLY_TIMEOUT_SECONDS);
    while (System.nanoTime() < deadline) {
      String line = replies.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
      if (line != null) {
        return line;
      }
      if (!process.isAlive()) {
        // The reader thread may still be draining the last lines.
        return replies.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
      }
    }
    return null;
  }

  /**
   * How long the last successful op took inside the peer, in milliseconds (the wasm call only:
   * without JSON transport), for benchmarks against the Rust machine; NaN after an error.
   */
  public double lastElapsedMillis() {
    return lastElapsedMillis;
  }

  /** {@link #call} with no parameters. */
  public ObjectNode call(String op) {
    return call(op, null);
  }

  private String stderr() {
    synchronized (stderrTail) {
      return stderrTail.isEmpty() ? "" : "\npeer stderr:\n" + String.join("\n", stderrTail);
    }
  }

  // ---------------------------------------------------------------- typed ops

  /**
   * {@code machine.init}: creates the machine; returns {@code {user_id, device_id, identity_keys}}.
   */
  public ObjectNode init(String userId, String deviceId) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", userId);
    p.put("device_id", deviceId);
    ObjectNode result = call("machine.init", p);
    this.userId = userId;
    this.deviceId = deviceId;
    return result;
  }

  /** The machine's user id (after {@link #init}). */
  @Override
  public String userId() {
    return userId;
  }

  /** The machine's device id (after {@link #init}). */
  @Override
  public String deviceId() {
    return deviceId;
  }

  /** {@code machine.identity_keys}: {@code {curve25519, ed25519}}. */
  @Override
  public ObjectNode identityKeys() {
    return call("machine.identity_keys");
  }

  /** {@code machine.outgoing_requests}: the pending requests. */
  public List<ObjectNode> outgoingRequests() {
    return objects(call("machine.outgoing_requests").get("requests"));
  }

  /** {@code machine.mark_request_as_sent} with the router's response. */
  public void markRequestAsSent(ObjectNode request, ObjectNode response) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("request_id", request.get("request_id").asText());
    p.put("type", request.get("type").asText());
    p.set("response", response);
    call("machine.mark_request_as_sent", p);
  }

  /** {@code machine.update_tracked_users}. */
  @Override
  public void updateTrackedUsers(Collection<String> users) {
    ObjectNode p = MAPPER.createObjectNode();
    users.forEach(p.putArray("users")::add);
    call("machine.update_tracked_users", p);
  }

  /** {@code machine.receive_sync_changes}; returns the processed to-device events. */
  public List<ObjectNode> receiveSyncChanges(RouterSync changes, boolean includeContent) {
    ObjectNode p = changes.toJson();
    p.put("include_content", includeContent);
    return objects(call("machine.receive_sync_changes", p).get("events"));
  }

  /**
   * {@code machine.share_room_key}: the to-device requests carrying the room key (and withheld
   * notices), not yet sent.
   */
  public List<ObjectNode> shareRoomKey(
      String roomId, Collection<String> users, ObjectNode settings) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", roomId);
    users.forEach(p.putArray("users")::add);
    p.set("settings", settings == null ? MAPPER.createObjectNode() : settings);
    return objects(call("machine.share_room_key", p).get("requests"));
  }

  /** {@code machine.encrypt_room_event}: the {@code m.room.encrypted} content. */
  @Override
  public ObjectNode encryptRoomEvent(String roomId, String type, ObjectNode content) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", roomId);
    p.put("type", type);
    p.set("content", content);
    return (ObjectNode) call("machine.encrypt_room_event", p).get("content");
  }

  /**
   * {@code machine.decrypt_room_event}: {@code {type, content, sender, sender_device,
   * verification_state, ...}}; a failure throws {@link PeerException} whose kind classifies it
   * ({@code missing_session}, {@code unknown_index}, {@code withheld}, ...).
   */
  @Override
  public ObjectNode decryptRoomEvent(String roomId, ObjectNode event) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", roomId);
    p.set("event", event);
    return call("machine.decrypt_room_event", p);
  }

  /** {@code machine.get_device}: trust and keys of a device as this machine sees it. */
  @Override
  public ObjectNode device(String user, String device) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", user);
    p.put("device_id", device);
    return call("machine.get_device", p);
  }

  // ---------------------------------------------------------------- glue with the router

  /** Registers this peer's device with the router (idempotent). */
  public void register(InMemoryRouter router) {
    router.registerDevice(userId, deviceId);
  }

  /** Sends one request through the router and marks it sent with the response. */
  public ObjectNode send(InMemoryRouter router, ObjectNode request) {
    ObjectNode response = router.route(userId, deviceId, request);
    markRequestAsSent(request, response);
    return response;
  }

  /**
   * Sends every outgoing request through the router and feeds back the responses, repeating until
   * the machine has nothing left to send.
   *
   * @return the requests sent, in order
   */
  @Override
  public List<ObjectNode> pump(InMemoryRouter router) {
    List<ObjectNode> sent = new ArrayList<>();
    for (int round = 0; round < MAX_PUMP_ROUNDS; round++) {
      List<ObjectNode> requests = outgoingRequests();
      if (requests.isEmpty()) {
        return sent;
      }
      for (ObjectNode r : requests) {
        send(router, r);
        sent.add(r);
      }
    }
    throw new IllegalStateException(
        "machine still has requests after " + MAX_PUMP_ROUNDS + " rounds: " + outgoingRequests());
  }

  /**
   * Hands the router's next sync for this device to the machine; returns the processed events with
   * content summaries (no key material).
   */
  @Override
  public List<ObjectNode> sync(InMemoryRouter router) {
    return receiveSyncChanges(router.sync(userId, deviceId), false);
  }

  /** Claims one-time keys for devices of {@code users} we have no Olm session with. */
  @Override
  public void establishSessions(InMemoryRouter router, Collection<String> users) {
    ObjectNode p = MAPPER.createObjectNode();
    users.forEach(p.putArray("users")::add);
    JsonNode request = call("machine.get_missing_sessions", p).get("request");
    if (request != null && request.isObject()) {
      send(router, (ObjectNode) request);
    }
  }

  /**
   * The full client-side sequence for sharing a room key: query devices, claim one-time keys, build
   * the to-device messages and send them.
   *
   * @return the to-device requests sent
   */
  @Override
  public List<ObjectNode> shareRoomKey(
      InMemoryRouter router, String roomId, Collection<String> users, ObjectNode settings) {
    pump(router);
    establishSessions(router, users);
    List<ObjectNode> requests = shareRoomKey(roomId, users, settings);
    for (ObjectNode r : requests) {
      send(router, r);
    }
    return requests;
  }

  @Override
  public String withheldCode(Mxe2eeException decryptionFailure) {
    if (decryptionFailure instanceof PeerException p) {
      JsonNode code = p.error.get("withheld_code");
      return code == null || code.isNull() ? null : code.asText();
    }
    return null;
  }

  @Override
  public ObjectNode setLocalTrust(String user, String device, String trust) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("user_id", user);
    p.put("device_id", device);
    p.put("trust", trust);
    return call("machine.set_local_trust", p);
  }

  @Override
  public void bootstrapCrossSigning(InMemoryRouter router) {
    for (ObjectNode r : objects(call("machine.bootstrap_cross_signing").get("requests"))) {
      send(router, r);
    }
    pump(router);
  }

  @Override
  public void verifyOwnDevice(InMemoryRouter router, String otherDeviceId) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("device_id", otherDeviceId);
    ObjectNode response =
        send(router, (ObjectNode) call("machine.verify_own_device", p).get("request"));
    if (!response.path("failures").isEmpty()) {
      throw new IllegalStateException("signature upload refused: " + response);
    }
  }

  @Override
  public List<ObjectNode> requestRoomKey(InMemoryRouter router, String roomId, ObjectNode event) {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", roomId);
    p.set("event", event);
    List<ObjectNode> requests = objects(call("machine.request_room_key", p).get("requests"));
    for (ObjectNode r : requests) {
      send(router, r);
    }
    return requests;
  }

  private static List<ObjectNode> objects(JsonNode array) {
    List<ObjectNode> out = new ArrayList<>();
    if (array instanceof ArrayNode a) {
      a.forEach(n -> out.add((ObjectNode) n));
    }
    return out;
  }

  /** Closes the peer's input (it exits on EOF) and waits briefly; kills it if it lingers. */
  @Override
  public void close() {
    try {
      stdin.close();
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
