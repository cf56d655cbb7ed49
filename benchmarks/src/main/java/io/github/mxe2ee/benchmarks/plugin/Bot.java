package io.github.mxe2ee.benchmarks.plugin;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * The bot of the plugin benchmarks: the real plugin ({@link MatrixE2ee#create}) on a SQLite store
 * file, its {@link HomeserverClient} logged in (by access token) at a {@link BenchHomeserver}.
 */
final class Bot implements AutoCloseable {
  static final String USER = "@bot:localhost";
  static final String DEVICE = "BOTDEVICE";
  static final String ROOM = "!bench:localhost";

  /** The store's pickle key (fixed, so that a store built once can be opened by later runs). */
  static final byte[] PICKLE_KEY = new byte[32];

  static {
    PICKLE_KEY[0] = 42;
    PICKLE_KEY[31] = 1;
  }

  final Vertx vertx;
  final BenchHomeserver hs;
  final HomeserverClient client;
  final MatrixE2ee e2ee;
  private long batch;

  private Bot(Vertx vertx, BenchHomeserver hs, HomeserverClient client, MatrixE2ee e2ee) {
    this.vertx = vertx;
    this.hs = hs;
    this.client = client;
    this.e2ee = e2ee;
  }

  /**
   * Starts a homeserver (with {@code deviceKeys}, {@code {user: {device: keys}}}, if not null) and
   * creates the plugin on {@code store}, logged in but not started.
   */
  static Bot create(Path store, JsonObject deviceKeys) throws Exception {
    Vertx vertx = Vertx.vertx();
    BenchHomeserver hs = await(new BenchHomeserver(USER, DEVICE).start(vertx));
    if (deviceKeys != null) {
      hs.putAllDeviceKeys(deviceKeys);
    }
    HomeserverClient client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.loginWithAccessToken("bench-token"));
    E2eeOptions options =
        new E2eeOptions()
            .setStorePath(store.toString())
            .setPickleKeyBase64(Base64.getEncoder().encodeToString(PICKLE_KEY));
    return new Bot(vertx, hs, client, MatrixE2ee.create(vertx, client, options));
  }

  /** {@link MatrixE2ee#start()}, waited for. */
  void start() throws Exception {
    await(e2ee.start());
  }

  /** A sync body with {@code events} in the bench room's timeline and a new {@code next_batch}. */
  JsonObject body(JsonArray events) {
    return new JsonObject()
        .put("next_batch", "b" + (++batch))
        .put(
            "rooms",
            new JsonObject()
                .put(
                    "join",
                    new JsonObject()
                        .put(
                            ROOM,
                            new JsonObject()
                                .put("timeline", new JsonObject().put("events", events)))));
  }

  /**
   * The sender joins: one sync with the room's state (encryption, the sender's membership), the
   * sender in {@code device_lists.changed} and its room key as an Olm to-device message.
   */
  void receiveRoomKey(Sender sender) throws Exception {
    JsonObject toDevice = sender.shareRoomKey(hs, ROOM, USER, DEVICE);
    JsonObject body = body(new JsonArray());
    body.getJsonObject("rooms")
        .getJsonObject("join")
        .getJsonObject(ROOM)
        .put("state", new JsonObject().put("events", Sender.roomState(ROOM)));
    body.put("to_device", new JsonObject().put("events", new JsonArray().add(toDevice)));
    body.put("device_lists", new JsonObject().put("changed", new JsonArray().add(Sender.USER)));
    await(e2ee.onSync(body));
  }

  /**
   * Counts the events of the bench room's timeline in a returned body that were decrypted.
   *
   * @throws IllegalStateException if one was not
   */
  static int checkDecrypted(JsonObject returned, int expected) {
    JsonArray events =
        returned
            .getJsonObject("rooms")
            .getJsonObject("join")
            .getJsonObject(ROOM)
            .getJsonObject("timeline")
            .getJsonArray("events");
    int ok = 0;
    for (int i = 0; i < events.size(); i++) {
      JsonObject e = events.getJsonObject(i);
      JsonObject info = e.getJsonObject("mxe2ee");
      if ("m.room.message".equals(e.getString("type"))
          && info != null
          && Boolean.TRUE.equals(info.getBoolean("encrypted"))) {
        ok++;
      }
    }
    if (ok != expected) {
      throw new IllegalStateException(
          "decrypted " + ok + " of " + expected + " events; first: " + events.getValue(0));
    }
    return ok;
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  /** Heap in use after full GCs, in bytes. */
  static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** A line of /proc/self/status, such as {@code VmRSS}, in kB; -1 if not there. */
  static long procStatusKb(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  @Override
  public void close() throws Exception {
    await(e2ee.close());
    await(hs.close());
    await(vertx.close());
  }
}
