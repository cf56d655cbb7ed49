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
 */
public final class ScriptedHomeserver {
  /** One recorded request: method, path (decoded form as received), query, body. */
  public record Seen(String method, String path, String query, String body) {}

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
    } else if (path.contains("/joined_members")) {
      answer.put("joined", new JsonObject().put("@bot:localhost", new JsonObject()));
    } else if (path.contains("/send/")) {
      answer.put("event_id", "$" + Integer.toHexString(path.hashCode()));
    }
    req.response()
        .setStatusCode(status)
        .putHeader("content-type", "application/json")
        .end(answer.encode());
  }
}
