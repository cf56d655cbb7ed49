package io.github.mxe2ee.plugin.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.MatrixE2ee;
import io.github.mxe2ee.plugin.testing.ScriptedHomeserver;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Replays the committed corpus {@code sync/sync_body_corpus.json} (deep, oversized and malformed
 * {@code /sync} bodies; its generator is beside it) against every entry a sync body has: the
 * plugin's {@link SyncBodyParser} (as {@link HomeserverClient#sync} reads the network), {@link
 * MatrixE2ee#onSync} on a started plugin (as a bot with its own loop passes a body), the sync path
 * of the real {@link HomeserverClient} against a scripted server, and the core's {@link
 * SyncChanges#fromSync}. Each must keep the ordinary events of a case, drop the hostile part, and
 * never throw anything but the documented {@link SyncBodyException} for a body refused as a whole;
 * no {@link StackOverflowError} or {@link OutOfMemoryError}. Every failure is collected with its
 * case id.
 */
class SyncBodyCorpusTest {
  private static final ObjectMapper DEEP =
      new ObjectMapper(
          JsonFactory.builder()
              .streamReadConstraints(
                  StreamReadConstraints.builder()
                      .maxNestingDepth(1_000_000)
                      .maxStringLength(Integer.MAX_VALUE)
                      .maxNumberLength(Integer.MAX_VALUE)
                      .build())
              .build());

  private static Vertx vertx;
  private static ScriptedHomeserver hs;
  private static HomeserverClient client;
  private static MatrixE2ee e2ee;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    hs = await(new ScriptedHomeserver().start(vertx));
    client = new HomeserverClient(WebClient.create(vertx), hs.baseUrl());
    await(client.login("bot", "pw", null));
    Path dir = Files.createTempDirectory("mxe2ee-corpus");
    e2ee =
        MatrixE2ee.create(
            vertx,
            client,
            new E2eeOptions()
                .setStorePath(dir.resolve("bot.db").toString())
                .setPickleKeyBase64(
                    Base64.getEncoder()
                        .withoutPadding()
                        .encodeToString(new byte[32])
                        .replace('A', 'B')));
    await(e2ee.start());
  }

  @AfterAll
  static void stop() throws Exception {
    await(e2ee.close());
    await(vertx.close());
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  static byte[] materialize(JsonNode c) {
    String body = c.get("body").asText();
    JsonNode fill = c.get("fill");
    if (fill == null) {
      return body.getBytes(StandardCharsets.UTF_8);
    }
    String kind = fill.get("kind").asText();
    StringBuilder sb = new StringBuilder();
    switch (kind) {
      case "deep_array", "deep_object" -> {
        int n = fill.get("levels").asInt();
        boolean obj = kind.equals("deep_object");
        for (int i = 0; i < n; i++) {
          sb.append(obj ? "{\"a\":" : "[");
        }
        sb.append("1");
        for (int i = 0; i < n; i++) {
          sb.append(obj ? "}" : "]");
        }
      }
      case "string" -> sb.append('"').append("x".repeat(fill.get("chars").asInt())).append('"');
      case "escaped_string" ->
          sb.append('"').append("\\u00e9".repeat(fill.get("chars").asInt())).append('"');
      case "number" -> sb.append("1".repeat(fill.get("chars").asInt()));
      default -> throw new IllegalArgumentException(kind);
    }
    return body.replace("\"@@FILL@@\"", sb).getBytes(StandardCharsets.UTF_8);
  }

  static JsonNode corpus() throws Exception {
    try (InputStream in =
        SyncBodyCorpusTest.class.getResourceAsStream("/sync/sync_body_corpus.json")) {
      return new ObjectMapper().readTree(in);
    }
  }

  private static List<String> timelineIds(JsonObject body) {
    List<String> ids = new ArrayList<>();
    if (body.getValue("rooms") instanceof JsonObject rooms
        && rooms.getValue("join") instanceof JsonObject join
        && join.getValue("!room:localhost") instanceof JsonObject room
        && room.getValue("timeline") instanceof JsonObject t
        && t.getValue("events") instanceof JsonArray events) {
      for (Object o : events) {
        if (o instanceof JsonObject e && e.getValue("event_id") instanceof String id) {
          ids.add(id);
        }
      }
    }
    return ids;
  }

  private static int toDeviceCount(JsonObject body) {
    if (body.getValue("to_device") instanceof JsonObject td
        && td.getValue("events") instanceof JsonArray events) {
      return events.size();
    }
    return 0;
  }

  @Test
  void corpus_parser_keepsOrdinaryEvents_dropsHostileOnes() throws Exception {
    SyncBodyParser parser = new SyncBodyParser();
    List<String> failures = new ArrayList<>();
    for (JsonNode c : corpus().get("cases")) {
      String id = c.get("id").asText();
      JsonNode expect = c.get("expect");
      String whole = expect.get("whole").asText();
      byte[] body = materialize(c);
      SyncBodyParser.Result r;
      try {
        r = parser.parse(body);
      } catch (SyncBodyException e) {
        if (whole.equals("ok")) {
          failures.add(id + ": refused: " + e.getMessage());
        }
        continue;
      } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
        failures.add(id + ": untyped " + e);
        continue;
      }
      if (whole.equals("refused")) {
        failures.add(id + ": accepted");
        continue;
      }
      if (expect.has("dropped_min")
          && r.droppedEvents() + r.droppedValues() < expect.get("dropped_min").asInt()) {
        failures.add(id + ": dropped only " + r.droppedEvents() + "+" + r.droppedValues());
      }
      // The wrong shapes are kept by the parser (they are JSON); onSync removes them.
      if (id.startsWith("timeline_") || id.startsWith("to_device_")) {
        if (!timelineIds(r.body()).equals(List.of("$ok1"))) {
          failures.add(id + ": timeline " + timelineIds(r.body()));
        }
        if (toDeviceCount(r.body()) != 1) {
          failures.add(id + ": to-device " + toDeviceCount(r.body()));
        }
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void corpus_onSync_neverThrows_keepsWhatIsWellFormed() throws Exception {
    List<String> failures = new ArrayList<>();
    int run = 0;
    for (JsonNode c : corpus().get("cases")) {
      String id = c.get("id").asText();
      JsonNode expect = c.get("expect");
      byte[] bytes = materialize(c);
      JsonObject input;
      try {
        // The body as a bot's own loop would hold it; what Vert.x's parser refuses never gets here.
        input = new SyncBodyParser(1L << 30).parse(bytes).body();
        if (id.contains("deep")) {
          input = deepInput(c);
        }
      } catch (SyncBodyException e) {
        continue;
      }
      run++;
      JsonObject out;
      try {
        out = await(e2ee.onSync(input));
      } catch (Exception | StackOverflowError | OutOfMemoryError e) {
        failures.add(id + ": onSync failed: " + e);
        continue;
      }
      if (expect.has("kept_timeline")) {
        List<String> want = new ArrayList<>();
        expect.get("kept_timeline").forEach(n -> want.add(n.asText()));
        if (!timelineIds(out).equals(want)) {
          failures.add(id + ": timeline " + timelineIds(out) + " want " + want);
        }
      }
      if (expect.has("kept_to_device")
          && toDeviceCount(out) != expect.get("kept_to_device").asInt()) {
        failures.add(id + ": to-device " + toDeviceCount(out));
      }
    }
    assertEquals(List.of(), failures);
    assertTrue(run > 90, "cases run: " + run);
  }

  /**
   * The hostile part of a deep case built directly as a Vert.x tree (a bot's own parser may allow
   * any depth), without going through our parser.
   */
  private static JsonObject deepInput(JsonNode c) {
    JsonObject body = new JsonObject(c.get("body").asText().replace("\"@@FILL@@\"", "0"));
    int n = c.get("fill").get("levels").asInt();
    Object deep = 1;
    for (int i = 0; i < n; i++) {
      deep =
          c.get("fill").get("kind").asText().equals("deep_object")
              ? new JsonObject().put("a", deep)
              : new JsonArray().add(deep);
    }
    JsonObject hostile =
        c.get("id").asText().startsWith("timeline")
            ? body.getJsonObject("rooms")
                .getJsonObject("join")
                .getJsonObject("!room:localhost")
                .getJsonObject("timeline")
                .getJsonArray("events")
                .getJsonObject(0)
            : body.getJsonObject("to_device").getJsonArray("events").getJsonObject(0);
    hostile.getJsonObject("content").put("x", deep);
    return body;
  }

  @Test
  void corpus_homeserverClientSync_keepsTheStreamGoing() throws Exception {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : corpus().get("cases")) {
      String id = c.get("id").asText();
      if (!(id.startsWith("timeline_") || id.startsWith("to_device_"))) {
        continue;
      }
      hs.queueSync(materialize(c));
      try {
        SyncBodyParser.Result r = await(client.sync(null, 0, null));
        if (!timelineIds(r.body()).equals(List.of("$ok1")) || r.droppedEvents() < 1) {
          failures.add(id + ": " + timelineIds(r.body()) + " dropped " + r.droppedEvents());
        }
      } catch (Exception | StackOverflowError | OutOfMemoryError e) {
        failures.add(id + ": " + e);
      }
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void corpus_coreSyncChanges_neverOverflows() throws Exception {
    List<String> failures = new ArrayList<>();
    for (JsonNode c : corpus().get("cases")) {
      String id = c.get("id").asText();
      JsonNode body;
      try {
        body = DEEP.readTree(materialize(c));
      } catch (Exception e) {
        continue;
      }
      try {
        SyncChanges changes = SyncChanges.fromSync(body);
        if (id.startsWith("to_device_") && changes.toDeviceEvents().size() != 1) {
          failures.add(id + ": kept " + changes.toDeviceEvents().size());
        }
      } catch (RuntimeException | StackOverflowError e) {
        failures.add(id + ": " + e);
      }
    }
    assertEquals(List.of(), failures);
  }
}
