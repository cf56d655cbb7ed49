package io.github.mxe2ee.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.json.JsonSigning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Rust {@code OlmMachine}'s side of issue 5, item 10: the same work the Java engine is timed
 * on, timed inside the peer ({@code elapsed_ms}, without JSON transport), so that {@code
 * docs/PERFORMANCE.md} can put both figures side by side.
 *
 * <ul>
 *   <li>share a fresh room key with {@code users × devicesPerUser} new devices: from the {@code
 *       /keys/claim} response (Olm session creation) to the to-device payloads ready;
 *   <li>the same with existing Olm sessions (a new Megolm session after invalidation);
 *   <li>decrypt {@code events} queued room events (in-memory store: Rust's "after a restart" cannot
 *       be reproduced in node, where matrix-sdk-crypto-wasm has no persistent store).
 * </ul>
 *
 * <p>By default it runs small (20 users × 5 devices, 500 events) as a correctness smoke test of the
 * harness. Full size: {@code mvn -pl core test -Dtest=RustMachineBenchmarkTest
 * -Dmxe2ee.bench.users=1000 -Dmxe2ee.bench.devicesPerUser=10 -Dmxe2ee.bench.events=100000
 * -Dmxe2ee.peer.timeoutSeconds=600}. Results are printed and written to {@code
 * target/rust-machine-bench.json}.
 */
class RustMachineBenchmarkTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String ROOM = "!bench:localhost";
  private static final String SENDER = "@sender:localhost";

  /** Events per batch line: keeps each JSON line a few megabytes at most. */
  private static final int EVENT_BATCH = 5_000;

  private static int property(String name, int defaultValue) {
    return Integer.parseInt(System.getProperty("mxe2ee.bench." + name, "" + defaultValue));
  }

  @Test
  void shareRoomKeyWithManyDevicesAndDecryptQueuedEvents() throws IOException {
    int users = property("users", 20);
    int devicesPerUser = property("devicesPerUser", 5);
    int events = property("events", 500);
    InMemoryRouter router = new InMemoryRouter();
    SecureRandom random = new SecureRandom();

    List<String> members = new ArrayList<>();
    long genStart = System.nanoTime();
    for (int u = 0; u < users; u++) {
      String user = "@u" + u + ":localhost";
      members.add(user);
      for (int d = 0; d < devicesPerUser; d++) {
        uploadFakeDevice(router, random, user, "D" + d);
      }
    }
    // Join after uploading: announcing every upload to every member would be quadratic.
    members.forEach(user -> router.joinRoom(ROOM, user));
    double generateMillis = (System.nanoTime() - genStart) / 1e6;

    ObjectNode results = MAPPER.createObjectNode();
    results.put("users", users);
    results.put("devices", users * devicesPerUser);
    results.put("events", events);
    results.put("fake_device_generation_ms", generateMillis);
    try (RustMachinePeer sender = RustMachinePeer.start(SENDER, "SENDER");
        RustMachinePeer receiver = RustMachinePeer.start("@receiver:localhost", "RECEIVER")) {
      results.set("versions", sender.call("peer.version"));
      sender.register(router);
      receiver.register(router);
      router.joinRoom(ROOM, SENDER);
      router.joinRoom(ROOM, receiver.userId());
      receiver.pump(router);
      sender.pump(router);
      sender.sync(router);
      List<String> everyone = new ArrayList<>(members);
      everyone.add(receiver.userId());
      sender.updateTrackedUsers(everyone);
      sender.pump(router); // one /keys/query for everyone

      // New devices: claim response (Olm sessions created) + share.
      ObjectNode p = MAPPER.createObjectNode();
      everyone.forEach(p.putArray("users")::add);
      ObjectNode claim = (ObjectNode) sender.call("machine.get_missing_sessions", p).get("request");
      ObjectNode claimed = router.route(SENDER, "SENDER", claim);
      sender.markRequestAsSent(claim, claimed);
      double sessionsMillis = sender.lastElapsedMillis();
      List<ObjectNode> shares = sender.shareRoomKey(ROOM, everyone, null);
      double shareMillis = sender.lastElapsedMillis();
      assertEquals(users * devicesPerUser + 1, countMessages(shares, "m.room.encrypted"));
      results.put("new_devices_claim_response_ms", sessionsMillis);
      results.put("new_devices_share_ms", shareMillis);
      results.put("new_devices_total_ms", sessionsMillis + shareMillis);
      for (ObjectNode r : shares) {
        sender.send(router, r);
      }

      // Existing sessions: a fresh Megolm session for the same devices.
      sender.call("machine.invalidate_group_session", room());
      // Rust refuses (panics) to encrypt past rotation_period_msgs: allow all queued events.
      ObjectNode settings = MAPPER.createObjectNode();
      settings.put("rotation_period_msgs", events + 1);
      List<ObjectNode> again = sender.shareRoomKey(ROOM, everyone, settings);
      results.put("existing_sessions_share_ms", sender.lastElapsedMillis());
      assertEquals(users * devicesPerUser + 1, countMessages(again, "m.room.encrypted"));
      for (ObjectNode r : again) {
        sender.send(router, r);
      }
      receiver.sync(router);

      // Queued room events, decrypted by the receiver.
      List<ObjectNode> queued = new ArrayList<>();
      double encryptMillis = 0;
      for (int done = 0; done < events; done += EVENT_BATCH) {
        int n = Math.min(EVENT_BATCH, events - done);
        ObjectNode batch = room();
        batch.put("type", "m.room.message");
        ArrayNode contents = batch.putArray("contents");
        for (int i = 0; i < n; i++) {
          ObjectNode c = contents.addObject();
          c.put("msgtype", "m.text");
          c.put("body", "event " + (done + i));
        }
        ArrayNode encrypted =
            (ArrayNode) sender.call("machine.encrypt_room_events", batch).get("contents");
        encryptMillis += sender.lastElapsedMillis();
        for (int i = 0; i < n; i++) {
          queued.add(
              router.sendRoomEvent(
                  SENDER, "SENDER", ROOM, "m.room.encrypted", (ObjectNode) encrypted.get(i)));
        }
      }
      double decryptMillis = 0;
      int decrypted = 0;
      for (int done = 0; done < queued.size(); done += EVENT_BATCH) {
        ObjectNode batch = room();
        ArrayNode list = batch.putArray("events");
        queued.subList(done, Math.min(queued.size(), done + EVENT_BATCH)).forEach(list::add);
        ObjectNode r = receiver.call("machine.decrypt_room_events", batch);
        assertTrue(r.path("failures").isEmpty(), r.toString());
        decrypted += r.get("decrypted").asInt();
        decryptMillis += receiver.lastElapsedMillis();
      }
      assertEquals(events, decrypted);
      results.put("encrypt_events_ms", encryptMillis);
      results.put("decrypt_events_ms", decryptMillis);
    }
    String json = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(results);
    System.out.println("Rust OlmMachine benchmark: " + json);
    Files.createDirectories(Path.of("target"));
    Files.writeString(Path.of("target/rust-machine-bench.json"), json);
  }

  private static ObjectNode room() {
    ObjectNode p = MAPPER.createObjectNode();
    p.put("room_id", ROOM);
    return p;
  }

  private static int countMessages(List<ObjectNode> requests, String eventType) {
    int n = 0;
    for (ObjectNode r : requests) {
      if (eventType.equals(r.path("event_type").asText())) {
        for (var byUser :
            (Iterable<com.fasterxml.jackson.databind.JsonNode>)
                () -> r.path("body").path("messages").elements()) {
          n += byUser.size();
        }
      }
    }
    return n;
  }

  /** A device with real, signed identity keys and one signed one-time key, uploaded. */
  private static void uploadFakeDevice(
      InMemoryRouter router, SecureRandom random, String user, String device) {
    router.registerDevice(user, device);
    Ed25519SecretKey ed = Ed25519SecretKey.generate(random);
    ObjectNode keys = MAPPER.createObjectNode();
    keys.put("user_id", user);
    keys.put("device_id", device);
    keys.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    keys.putObject("keys")
        .put("curve25519:" + device, Curve25519SecretKey.generate(random).publicKey().toBase64())
        .put("ed25519:" + device, ed.publicKey().toBase64());
    JsonSigning.sign(keys, user, "ed25519:" + device, ed);
    ObjectNode otk = MAPPER.createObjectNode();
    otk.put("key", Curve25519SecretKey.generate(random).publicKey().toBase64());
    JsonSigning.sign(otk, user, "ed25519:" + device, ed);
    ObjectNode body = MAPPER.createObjectNode();
    body.set("device_keys", keys);
    body.putObject("one_time_keys").set("signed_curve25519:AAAAAQ", otk);
    router.keysUpload(user, device, body);
  }
}
