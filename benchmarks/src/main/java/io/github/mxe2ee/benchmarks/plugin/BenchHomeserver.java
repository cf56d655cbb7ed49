package io.github.mxe2ee.benchmarks.plugin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny homeserver on 127.0.0.1 for the plugin benchmarks (not a test double of Synapse; it
 * answers the few requests the plugin makes around the measured work, so that the measured path is
 * the plugin's own): {@code whoami}, {@code /keys/upload} (device keys and one-time keys are kept,
 * the count of one-time keys is answered), {@code /keys/query} (the device keys it holds), {@code
 * /sync} (an empty body after {@link #setSyncDelayMs}, as a long poll with no news), {@code
 * /members} (empty) and {@code {}} for everything else (to-device sends, for example). The sender
 * of the benchmarks runs in-process and reaches the same keys through {@link #putDeviceKeys} and
 * {@link #claimOneTimeKey}. Written for the benchmarks after the plugin tests' scripted server.
 */
public final class BenchHomeserver {
  private final Map<String, Map<String, JsonObject>> deviceKeys = new HashMap<>();
  private final Map<String, Deque<JsonObject>> oneTimeKeys = new HashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final AtomicLong syncs = new AtomicLong();
  private volatile long syncDelayMs;
  private final String userId;
  private final String deviceId;
  private Vertx vertx;
  private HttpServer server;

  /** A server whose access token belongs to {@code userId}'s device {@code deviceId}. */
  public BenchHomeserver(String userId, String deviceId) {
    this.userId = userId;
    this.deviceId = deviceId;
  }

  /** Starts listening on a free port of 127.0.0.1. */
  public Future<BenchHomeserver> start(Vertx vertx) {
    this.vertx = vertx;
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

  /** How long {@code /sync} waits before its empty answer. */
  public BenchHomeserver setSyncDelayMs(long ms) {
    this.syncDelayMs = ms;
    return this;
  }

  /** Requests answered so far. */
  public long requests() {
    return requests.get();
  }

  /** {@code /sync} requests answered so far. */
  public long syncs() {
    return syncs.get();
  }

  /** Adds (or replaces) a device's keys, served by {@code /keys/query}. */
  public synchronized void putDeviceKeys(String user, String device, JsonObject keys) {
    deviceKeys.computeIfAbsent(user, u -> new HashMap<>()).put(device, keys.copy());
  }

  /** Every device key held, as {@code {user: {device: keys}}}. */
  public synchronized JsonObject allDeviceKeys() {
    JsonObject out = new JsonObject();
    deviceKeys.forEach(
        (user, devices) -> {
          JsonObject of = new JsonObject();
          devices.forEach(of::put);
          out.put(user, of);
        });
    return out;
  }

  /** Adds every device key of {@code all} ({@code {user: {device: keys}}}). */
  public synchronized void putAllDeviceKeys(JsonObject all) {
    for (String user : all.fieldNames()) {
      JsonObject devices = all.getJsonObject(user);
      for (String device : devices.fieldNames()) {
        putDeviceKeys(user, device, devices.getJsonObject(device));
      }
    }
  }

  /** The device's keys, or null. */
  public synchronized JsonObject deviceKeys(String user, String device) {
    Map<String, JsonObject> of = deviceKeys.get(user);
    return of == null ? null : of.get(device);
  }

  /**
   * Takes one uploaded one-time key of a device, as {@code /keys/claim} would.
   *
   * @return {@code {"signed_curve25519:ID": {...}}}, or null if none is left
   */
  public synchronized JsonObject claimOneTimeKey(String user, String device) {
    Deque<JsonObject> keys = oneTimeKeys.get(user + "|" + device);
    return keys == null ? null : keys.poll();
  }

  private synchronized int uploaded(JsonObject body) {
    if (body.getValue("device_keys") instanceof JsonObject keys) {
      putDeviceKeys(userId, deviceId, keys);
    }
    Deque<JsonObject> keys =
        oneTimeKeys.computeIfAbsent(userId + "|" + deviceId, k -> new ArrayDeque<>());
    if (body.getValue("one_time_keys") instanceof JsonObject otks) {
      for (String id : otks.fieldNames()) {
        keys.add(new JsonObject().put(id, otks.getValue(id)));
      }
    }
    return keys.size();
  }

  private synchronized JsonObject query(JsonObject body) {
    JsonObject answer = new JsonObject();
    JsonObject out = new JsonObject();
    answer.put("device_keys", out).put("failures", new JsonObject());
    if (body.getValue("device_keys") instanceof JsonObject asked) {
      for (String user : asked.fieldNames()) {
        JsonObject of = new JsonObject();
        deviceKeys.getOrDefault(user, Map.of()).forEach(of::put);
        out.put(user, of);
      }
    }
    return answer;
  }

  private void handle(HttpServerRequest req, Buffer body) {
    requests.incrementAndGet();
    String path = req.path();
    JsonObject json = body.length() == 0 ? new JsonObject() : new JsonObject(body);
    JsonObject answer = new JsonObject();
    if (path.endsWith("/account/whoami")) {
      answer.put("user_id", userId).put("device_id", deviceId);
    } else if (path.endsWith("/keys/upload")) {
      answer.put("one_time_key_counts", new JsonObject().put("signed_curve25519", uploaded(json)));
    } else if (path.endsWith("/keys/query")) {
      answer = query(json);
    } else if (path.endsWith("/sync")) {
      long n = syncs.incrementAndGet();
      JsonObject empty = new JsonObject().put("next_batch", "idle" + n);
      long delay = syncDelayMs;
      if (delay > 0 && req.getParam("since") != null) {
        vertx.setTimer(delay, t -> reply(req, empty));
        return;
      }
      answer = empty;
    } else if (path.endsWith("/members")) {
      answer.put("chunk", new io.vertx.core.json.JsonArray());
    }
    reply(req, answer);
  }

  private static void reply(HttpServerRequest req, JsonObject answer) {
    req.response().putHeader("content-type", "application/json").end(answer.encode());
  }

  /** Stops listening. */
  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
