package io.github.mxe2ee.plugin.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The plugin's meters on a real plugin instance (real machine, SQLite store, Web Client) against
 * {@link ScriptedHomeserver}, and the bounded tag sets: no tag may carry an id a remote party
 * chooses.
 */
class Mxe2eeMetricsTest {
  private static final String ROOM = "!room:localhost";
  private Vertx vertx;
  private ScriptedHomeserver hs;
  private HomeserverClient client;
  private Path dir;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    dir = Files.createTempDirectory("mxe2ee-metrics");
  }

  @AfterEach
  void tearDown() throws Exception {
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private MatrixE2ee plugin(E2eeOptions options) {
    return MatrixE2ee.create(
        vertx,
        client,
        options
            .setStorePath(dir.resolve("bot.db").toString())
            .setPickleKeyBase64("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"));
  }

  private static JsonObject encryptedEvent(String eventId, String sessionId) {
    return new JsonObject()
        .put("type", "m.room.encrypted")
        .put("event_id", eventId)
        .put("sender", "@alice:localhost")
        .put(
            "content",
            new JsonObject()
                .put("algorithm", "m.megolm.v1.aes-sha2")
                .put("sender_key", "c2VuZGVya2V5c2VuZGVya2V5c2VuZGVya2V5c2VuZGU")
                .put("session_id", sessionId)
                .put("device_id", "ALICEDEVICE")
                .put("ciphertext", "AwgAEhAAAAAAAAAAAAAAAAAAAAAA"));
  }

  @Test
  void pluginMeters_countRequestsSavesUndecryptableAndOneTimeKeys() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    MatrixE2ee e2ee = plugin(new E2eeOptions().setMeterRegistry(registry));
    assertSame(registry, e2ee.metrics().registry());
    await(e2ee.start());

    Timer query =
        registry
            .find(Mxe2eeMetrics.REQUESTS)
            .tags("endpoint", "keys_query", "method", "POST", "outcome", "success")
            .timer();
    assertNotNull(
        query, "the own-keys query was timed by endpoint: " + registry.getMetersAsString());
    assertTrue(query.count() >= 1);
    Timer saves = registry.find(Mxe2eeMetrics.STORE_SAVE).tag("outcome", "success").timer();
    assertTrue(saves.count() >= 1, "store saves are timed");
    assertTrue(saves.totalTime(TimeUnit.NANOSECONDS) > 0);

    JsonArray timeline = new JsonArray();
    for (int i = 0; i < 3; i++) {
      timeline.add(encryptedEvent("$e" + i, "session" + i));
    }
    JsonObject body =
        new JsonObject()
            .put("next_batch", "s1")
            .put("device_one_time_keys_count", new JsonObject().put("signed_curve25519", 42))
            .put(
                "rooms",
                new JsonObject()
                    .put(
                        "join",
                        new JsonObject()
                            .put(
                                ROOM,
                                new JsonObject()
                                    .put("timeline", new JsonObject().put("events", timeline)))));
    await(e2ee.onSync(body));
    assertEquals(
        3.0,
        registry
            .find(Mxe2eeMetrics.EVENTS_UNDECRYPTABLE)
            .tag("cause", "MISSING_SESSION")
            .counter()
            .count(),
        "three events without a session");
    assertEquals(
        42.0,
        registry
            .find(Mxe2eeMetrics.ONE_TIME_KEYS)
            .tag("algorithm", "signed_curve25519")
            .gauge()
            .value());
    assertEquals(0.0, registry.find(Mxe2eeMetrics.EVENTS_DECRYPTED).counter().count());
    assertNotNull(
        registry.find(Mxe2eeMetrics.BOUNDS).tag("bound", "duplicates_ignored").functionCounter());
    assertNotNull(registry.find(Mxe2eeMetrics.TRUST_REFUSED_DEVICE_KEYS).functionCounter());
    await(e2ee.close());
  }

  @Test
  void defaultRegistry_isThePluginsOwn() {
    MatrixE2ee e2ee = plugin(new E2eeOptions());
    assertTrue(e2ee.metrics().registry() instanceof SimpleMeterRegistry);
  }

  /**
   * Every room, session and event id a sender makes up must not become a time series of its own.
   */
  @Test
  void tags_neverCarryIds_manyRoomsAndCausesStayAFixedSetOfSeries() {
    MeterRegistry registry = new SimpleMeterRegistry();
    Mxe2eeMetrics m = new Mxe2eeMetrics();
    m.bindTo(registry);
    int before = registry.getMeters().size();
    for (int i = 0; i < 200; i++) {
      m.requestCompleted(
          "PUT", "/_matrix/client/v3/rooms/!r" + i + ":hs/send/m.room.message/txn" + i, 200, 1000);
      m.requestCompleted(
          "GET", "/_matrix/client/v3/rooms/!r" + i + ":hs/state/m.room.encryption/", 404, 10);
      m.requestCompleted("PUT", "/_matrix/client/v3/sendToDevice/m.room.encrypted/t" + i, 200, 10);
      m.requestCompleted("GET", "/_matrix/client/v3/made/up/" + i, 500, 10);
      m.undecryptable("attacker-chosen-" + i);
      m.oneTimeKeyCounts(Map.of("algo" + i, i));
      m.machineObserver().roomKeysShared("!r" + i + ":hs", 1);
    }
    Set<String> ids = new TreeSet<>();
    for (Meter meter : registry.getMeters()) {
      ids.add(meter.getId().toString());
    }
    // room_send, room_state, to_device, other; cause OTHER: 5 new series in all.
    assertEquals(before + 5, registry.getMeters().size(), ids.toString());
    assertEquals(
        200.0,
        registry.find(Mxe2eeMetrics.EVENTS_UNDECRYPTABLE).tag("cause", "OTHER").counter().count());
    assertEquals(200.0, registry.find(Mxe2eeMetrics.ROOM_KEYS_SHARED).counter().count());
    assertNull(registry.find(Mxe2eeMetrics.ONE_TIME_KEYS).tag("algorithm", "algo1").gauge());
    for (String id : ids) {
      assertTrue(!id.contains("!r") && !id.contains("txn") && !id.contains("attacker"), id);
    }
  }

  @Test
  void endpoints_areNamedByTemplate() {
    assertEquals("sync", Endpoints.of("/_matrix/client/v3/sync?since=x"));
    assertEquals("keys_query", Endpoints.of("/_matrix/client/v3/keys/query"));
    assertEquals("signature_upload", Endpoints.of("/_matrix/client/v3/keys/signatures/upload"));
    assertEquals(
        "signing_keys_upload", Endpoints.of("/_matrix/client/v3/keys/device_signing/upload"));
    assertEquals("keys_backup", Endpoints.of("/_matrix/client/v3/room_keys/keys?version=1"));
    assertEquals(
        "account_data", Endpoints.of("/_matrix/client/v3/user/%40bot%3Ahs/account_data/m.x"));
    assertEquals("joined_members", Endpoints.of("/_matrix/client/v3/rooms/!a%3Ab/joined_members"));
    assertEquals("join", Endpoints.of("/_matrix/client/v3/rooms/!a%3Ab/join"));
    assertEquals("media_upload", Endpoints.of("/_matrix/media/v3/upload"));
    assertEquals(Endpoints.OTHER, Endpoints.of("/somewhere/else"));
    assertEquals("rate_limited", Endpoints.outcome(429));
    assertEquals("transport_error", Endpoints.outcome(0));
  }
}
