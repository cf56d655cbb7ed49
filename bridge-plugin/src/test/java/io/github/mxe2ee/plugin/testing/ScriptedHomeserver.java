package io.github.mxe2ee.plugin.testing;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A hand-written homeserver on 127.0.0.1 for fault injection the real Synapse cannot produce
 * (hostile or malformed {@code /sync} bodies, a server that says a room has no encryption state).
 * It answers just enough of the Client-Server API for the plugin to start: login, {@code
 * /keys/upload}, {@code /keys/query} (no devices), {@code /sync} from a script of raw bodies (an
 * empty sync when the script is empty), room state lookups (404 unless set), and {@code PUT
 * /send/...} (recorded, answered with an event id derived from the transaction id, so a repeated
 * transaction id gets the same event id, as Synapse does). Everything else gets {@code {}}.
 *
 * <p>Faults ({@link #fault}): the next requests whose path contains a string can be answered with a
 * rate limit ({@code 429} with {@code retry_after_ms} or {@code Retry-After}), an error status, a
 * closed connection or no answer at all, which Synapse does not produce on demand.
 */
public final class ScriptedHomeserver {
  /** One recorded request: method, path (decoded form as received), query, body. */
  public record Seen(String method, String path, String query, String body) {}

  /**
   * One injected fault.
   *
   * @param status the status to answer (0 with {@code close} or {@code hang})
   * @param retryAfterMs {@code retry_after_ms} of the body, or null
   * @param retryAfterHeader the {@code Retry-After} header, or null
   * @param close close the connection instead of answering
   * @param hang never answer
   */
  public record Fault(
      int status, Long retryAfterMs, String retryAfterHeader, boolean close, boolean hang) {
    /** {@code 429 M_LIMIT_EXCEEDED} with {@code retry_after_ms} in the body. */
    public static Fault rateLimited(long ms) {
      return new Fault(429, ms, null, false, false);
    }

    /** {@code 429 M_LIMIT_EXCEEDED} with only a {@code Retry-After} header. */
    public static Fault rateLimitedHeader(String header) {
      return new Fault(429, null, header, false, false);
    }

    /** An error status with a standard error body. */
    public static Fault status(int status) {
      return new Fault(status, null, null, false, false);
    }

    /** The connection is closed before an answer. */
    public static Fault closed() {
      return new Fault(0, null, null, true, false);
    }

    /** No answer ever (the client's timeout ends it). */
    public static Fault noAnswer() {
      return new Fault(0, null, null, false, true);
    }
  }

  private final List<Object[]> faults = new java.util.ArrayList<>();
  private volatile JsonObject members =
      new JsonObject().put("chunk", new io.vertx.core.json.JsonArray());
  private final Deque<Buffer> syncBodies = new ArrayDeque<>();
  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private volatile Function<String, Integer> stateStatus = path -> 404;
  private volatile int syncCounter;
  private HttpServer server;

  /** Starts the server on a free port. */
  public Future<ScriptedHomeserver> start(Vertx vertx) {
    return vertx
        .createHttpServer()
        .requestHandler(req -> req.body().onSuccess(b -> handle(req, b)))
        .listen(0, "127.0.0.1")
        .map(
            s -> {
              server = s;
              return this;
            });
  }

  /** Base URL. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  /** Queues a raw {@code /sync} body. */
  public synchronized ScriptedHomeserver queueSync(byte[] body) {
    syncBodies.add(Buffer.buffer(body));
    return this;
  }

  /** Sets the status of {@code GET .../state/m.room.encryption/} by path (default 404). */
  public ScriptedHomeserver stateStatus(Function<String, Integer> status) {
    this.stateStatus = status;
    return this;
  }

  /**
   * Answers the next requests whose path contains {@code pathPart} with {@code faults}, one each,
   * in order; later ones are served normally.
   */
  public synchronized ScriptedHomeserver fault(String pathPart, Fault... faults) {
    for (Fault f : faults) {
      this.faults.add(new Object[] {pathPart, f});
    }
    return this;
  }

  /** Sets the answer of {@code GET .../members} (default: an empty chunk). */
  public ScriptedHomeserver members(JsonObject answer) {
    this.members = answer;
    return this;
  }

  private synchronized Fault nextFault(String path) {
    for (int i = 0; i < faults.size(); i++) {
      if (path.contains((String) faults.get(i)[0])) {
        return (Fault) faults.remove(i)[1];
      }
    }
    return null;
  }

  /** Every request so far. */
  public List<Seen> seen() {
    return List.copyOf(seen);
  }

  /** The {@code PUT .../send/...} requests so far. */
  public List<Seen> sends() {
    return seen.stream()
        .filter(s -> s.method().equals("PUT") && s.path().contains("/send/"))
        .toList();
  }

  private void handle(HttpServerRequest req, Buffer body) {
    String path = req.path();
    seen.add(new Seen(req.method().name(), path, req.query(), body.toString()));
    Fault fault = nextFault(path);
    if (fault != null) {
      if (fault.hang()) {
        return;
      }
      if (fault.close()) {
        req.connection().close();
        return;
      }
      JsonObject error =
          new JsonObject()
              .put("errcode", fault.status() == 429 ? "M_LIMIT_EXCEEDED" : "M_UNKNOWN")
              .put("error", "injected");
      if (fault.retryAfterMs() != null) {
        error.put("retry_after_ms", fault.retryAfterMs());
      }
      if (fault.retryAfterHeader() != null) {
        req.response().putHeader("Retry-After", fault.retryAfterHeader());
      }
      req.response()
          .setStatusCode(fault.status())
          .putHeader("content-type", "application/json")
          .end(error.encode());
      return;
    }
    JsonObject answer = new JsonObject();
    int status = 200;
    if (path.endsWith("/login")) {
      answer
          .put("user_id", "@bot:localhost")
          .put("device_id", "BOTDEVICE")
          .put("access_token", "tok");
    } else if (path.endsWith("/keys/upload")) {
      answer.put("one_time_key_counts", new JsonObject().put("signed_curve25519", 50));
    } else if (path.endsWith("/keys/query")) {
      answer.put("device_keys", new JsonObject()).put("failures", new JsonObject());
    } else if (path.endsWith("/sync")) {
      Buffer next;
      synchronized (this) {
        next = syncBodies.poll();
      }
      if (next != null) {
        req.response().putHeader("content-type", "application/json").end(next);
        return;
      }
      answer.put("next_batch", "empty" + (++syncCounter));
    } else if (path.contains("/state/m.room.encryption")) {
      status = stateStatus.apply(path);
      if (status == 404) {
        answer.put("errcode", "M_NOT_FOUND").put("error", "Event not found.");
      } else {
        answer.put("algorithm", "m.megolm.v1.aes-sha2");
      }
    } else if (path.endsWith("/createRoom")) {
      answer.put("room_id", "!created:localhost");
    } else if (path.endsWith("/members")) {
      answer = members.copy();
    } else if (path.contains("/joined_members")) {
      answer.put("joined", new JsonObject().put("@bot:localhost", new JsonObject()));
    } else if (path.contains("/send/")
        || ("PUT".equals(req.method().name()) && path.contains("/state/"))) {
      answer.put("event_id", "$" + Integer.toHexString(path.hashCode()));
    }
    req.response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(answer.encode());
  }
}
