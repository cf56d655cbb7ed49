package io.github.mxe2ee.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The flood benchmark of issue 11 (a program, not a test, not JMH): a bot on a fresh SQLite store
 * receives, through {@link OlmMachine#receiveSyncChanges} in syncs of {@value #BATCH} events,
 *
 * <ol>
 *   <li>{@code keyRequests} {@code m.room_key_request}s from {@code devices} valid devices of one
 *       remote user (each device asks several times for made-up sessions);
 *   <li>{@code withheld} {@code m.room_key.withheld} notices for made-up sessions from 10 known
 *       devices;
 *   <li>{@code preKeys} Olm pre-key messages on the bot's fallback key from new identity keys,
 *       whose payloads fail the spec's checks (wrong recipient).
 * </ol>
 *
 * For each it prints the wall time, the heap in use after a full GC, the growth of the database
 * (file plus WAL), and the to-device messages the machine queued in reply. With {@code --ordinary},
 * it also times what an ordinary message costs while the flood goes on: after every sync of the
 * flood, the bot decrypts one ordinary Megolm event and encrypts its answer; the time of that sync
 * step plus that decrypt and encrypt is the delay the flood adds to a message that arrives in the
 * same sync (network excluded), printed as median and maximum over all syncs. It uses only API
 * present before the bounds of issue 11, so the same source measures the code before and after.
 *
 * <p>Usage: {@code FloodBenchmark [--ordinary] [devices keyRequests withheld preKeys]} (defaults
 * 10000 100000 100000 10000).
 */
public final class FloodBenchmark {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final int BATCH = 1_000;
  private static final String BOT = "@bot:localhost";
  private static final String MALLORY = "@mallory:evil.example";
  private static final String ROOM = "!ordinary:localhost";
  private static boolean ordinary;

  private final Path dir;
  private final Path db;
  private final SqliteCryptoStore store;
  private final OlmMachine machine;
  private final Map<String, Map<String, ObjectNode>> served = new LinkedHashMap<>();
  private ObjectNode firstUpload;
  private long replies;
  private ObjectNode ordinaryEvent;
  private final List<Long> ordinaryNanos = new ArrayList<>();

  private FloodBenchmark(String name) throws IOException {
    dir = Files.createTempDirectory("mxe2ee-flood-" + name);
    db = dir.resolve("bot.db");
    store = SqliteCryptoStore.open(db, AccountId.of(BOT, "BOTDEVICE"));
    byte[] key = new byte[32];
    key[0] = 1;
    machine = OlmMachine.open(MachineConfig.of(BOT, "BOTDEVICE", key), store);
    pump();
    if (ordinary) {
      // A room session of the bot's own: the machine keeps its inbound copy, so the bot can
      // decrypt the event it encrypted, the same work as for a message from someone else.
      machine.shareRoomKey(ROOM, List.of());
      ObjectNode body = MAPPER.createObjectNode().put("msgtype", "m.text").put("body", "hello");
      ordinaryEvent = event("m.room.encrypted", BOT, encrypt(body));
      ordinaryEvent.put("event_id", "$ordinary").put("room_id", ROOM);
      ordinaryEvent.put("origin_server_ts", System.currentTimeMillis());
    }
  }

  private ObjectNode encrypt(ObjectNode content) {
    return machine.encryptRoomEvent(ROOM, "m.room.message", content);
  }

  /** A remote device made from a real Olm account, with self-signed device keys. */
  private record Peer(String deviceId, Account account, ObjectNode keys) {
    static Peer create(String user, String deviceId) {
      Account a = Account.create();
      ObjectNode k = MAPPER.createObjectNode();
      k.put("user_id", user).put("device_id", deviceId);
      k.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
      k.putObject("keys")
          .put("curve25519:" + deviceId, a.curve25519Key().toBase64())
          .put("ed25519:" + deviceId, a.ed25519Key().toBase64());
      String sig = a.sign(JsonSigning.signedBytes(k)).toBase64();
      k.putObject("signatures").putObject(user).put("ed25519:" + deviceId, sig);
      return new Peer(deviceId, a, k);
    }
  }

  private void pump() {
    for (int round = 0; round < 5; round++) {
      boolean answered = false;
      for (OutgoingRequest r : machine.outgoingRequests()) {
        if (r.type() == RequestType.KEYS_UPLOAD) {
          if (firstUpload == null) {
            firstUpload = r.body().deepCopy();
          }
          ObjectNode counts = MAPPER.createObjectNode();
          counts.putObject("one_time_key_counts").put("signed_curve25519", 50);
          machine.markRequestAsSent(r.requestId(), r.type(), counts);
          answered = true;
        } else if (r.type() == RequestType.KEYS_QUERY) {
          ObjectNode answer = MAPPER.createObjectNode();
          ObjectNode keys = answer.putObject("device_keys");
          for (Iterator<String> it = r.body().path("device_keys").fieldNames(); it.hasNext(); ) {
            String user = it.next();
            ObjectNode of = keys.putObject(user);
            served.getOrDefault(user, Map.of()).forEach(of::set);
          }
          machine.markRequestAsSent(r.requestId(), r.type(), answer);
          answered = true;
        }
      }
      if (!answered) {
        return;
      }
    }
  }

  /** Counts (once per request id) the to-device messages queued in reply. */
  private void countReplies(java.util.Set<String> seen) {
    for (OutgoingRequest r : machine.outgoingRequests()) {
      if (r.type() == RequestType.TO_DEVICE && seen.add(r.requestId())) {
        for (JsonNode user : r.body().path("messages")) {
          replies += user.size();
        }
      }
    }
  }

  private List<Peer> learn(String user, int n) {
    List<Peer> peers = new ArrayList<>();
    Map<String, ObjectNode> of = served.computeIfAbsent(user, u -> new LinkedHashMap<>());
    for (int i = 0; i < n; i++) {
      Peer p = Peer.create(user, "DEV" + i);
      peers.add(p);
      of.put(p.deviceId, p.keys);
    }
    machine.updateTrackedUsers(List.of(user));
    pump();
    return peers;
  }

  private void feed(List<ObjectNode> events, java.util.Set<String> seen) {
    for (int i = 0; i < events.size(); i += BATCH) {
      long t0 = System.nanoTime();
      machine.receiveSyncChanges(
          new SyncChanges(
              events.subList(i, Math.min(events.size(), i + BATCH)),
              List.of(),
              List.of(),
              null,
              null,
              null));
      if (ordinaryEvent != null) {
        var result = machine.decryptRoomEvent(ROOM, ordinaryEvent);
        if (!(result instanceof io.github.mxe2ee.machine.DecryptionResult.Decrypted)) {
          throw new IllegalStateException("the ordinary event did not decrypt: " + result);
        }
        encrypt(MAPPER.createObjectNode().put("msgtype", "m.notice").put("body", "echo: hello"));
        ordinaryNanos.add(System.nanoTime() - t0);
      }
      countReplies(seen);
    }
  }

  /** Median and maximum of the ordinary message's delay, or "-" without {@code --ordinary}. */
  private String ordinaryDelay() {
    if (ordinaryNanos.isEmpty()) {
      return "-";
    }
    List<Long> sorted = new ArrayList<>(ordinaryNanos);
    sorted.sort(null);
    return String.format(
        "%,d ms / %,d ms",
        sorted.get(sorted.size() / 2) / 1_000_000, sorted.get(sorted.size() - 1) / 1_000_000);
  }

  private static ObjectNode event(String type, String sender, ObjectNode content) {
    ObjectNode e = MAPPER.createObjectNode();
    e.put("type", type).put("sender", sender);
    e.set("content", content);
    return e;
  }

  private long storeBytes() throws IOException {
    long n = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        n += Files.size(p);
      }
    }
    return n;
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private void close() throws IOException {
    machine.close();
    store.close();
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private interface Scenario {
    void run(FloodBenchmark bot, java.util.Set<String> seen) throws Exception;
  }

  private static void measure(String name, Scenario scenario) throws Exception {
    FloodBenchmark bot = new FloodBenchmark(name);
    long heap0 = heapAfterGc();
    long store0 = bot.storeBytes();
    long t0 = System.nanoTime();
    java.util.Set<String> seen = new java.util.HashSet<>();
    scenario.run(bot, seen);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    long heap = heapAfterGc() - heap0;
    long growth = bot.storeBytes() - store0;
    System.out.printf(
        "| %s | %,d ms | %+.1f MiB | %+.1f MiB | %,d | %s |%n",
        name, ms, heap / 1048576.0, growth / 1048576.0, bot.replies, bot.ordinaryDelay());
    bot.close();
  }

  /** Runs the three floods and prints one Markdown table row each. */
  public static void main(String[] args) throws Exception {
    List<String> rest = new ArrayList<>(List.of(args));
    ordinary = rest.remove("--ordinary");
    int devices = rest.size() > 0 ? Integer.parseInt(rest.get(0)) : 10_000;
    int keyRequests = rest.size() > 1 ? Integer.parseInt(rest.get(1)) : 100_000;
    int withheld = rest.size() > 2 ? Integer.parseInt(rest.get(2)) : 100_000;
    int preKeys = rest.size() > 3 ? Integer.parseInt(rest.get(3)) : 10_000;
    System.out.println(
        "| flood | time (incl. setup) | heap after GC | store growth | to-device messages queued"
            + " | ordinary message delay per sync (median / max) |");
    System.out.println("|---|---|---|---|---|---|");
    measure(
        String.format("%,d key requests from %,d devices of one user", keyRequests, devices),
        (bot, seen) -> {
          List<Peer> peers = bot.learn(MALLORY, devices);
          List<ObjectNode> events = new ArrayList<>();
          for (int i = 0; i < keyRequests; i++) {
            Peer p = peers.get(i % devices);
            ObjectNode c = MAPPER.createObjectNode();
            c.put("action", "request").put("request_id", "r" + i);
            c.put("requesting_device_id", p.deviceId);
            c.putObject("body")
                .put("algorithm", "m.megolm.v1.aes-sha2")
                .put("room_id", "!room:localhost")
                .put("session_id", "made-up-" + i);
            events.add(event("m.room_key_request", MALLORY, c));
          }
          bot.feed(events, seen);
        });
    measure(
        String.format("%,d withheld notices from 10 devices", withheld),
        (bot, seen) -> {
          List<Peer> peers = bot.learn(MALLORY, 10);
          List<ObjectNode> events = new ArrayList<>();
          for (int i = 0; i < withheld; i++) {
            Peer p = peers.get(i % peers.size());
            ObjectNode c = MAPPER.createObjectNode();
            c.put("algorithm", "m.megolm.v1.aes-sha2")
                .put("room_id", "!room:localhost")
                .put("session_id", "made-up-" + i)
                .put("sender_key", p.account.curve25519Key().toBase64())
                .put("code", "m.unverified")
                .put("reason", "not verified");
            events.add(event("m.room_key.withheld", MALLORY, c));
          }
          bot.feed(events, seen);
        });
    measure(
        String.format("%,d pre-key messages on the fallback key, bad payloads", preKeys),
        (bot, seen) -> {
          Curve25519PublicKey ours = bot.machine.identityKeys().curve25519();
          Curve25519PublicKey fallback =
              Curve25519PublicKey.fromBase64(
                  bot.firstUpload.path("fallback_keys").elements().next().path("key").asText());
          List<ObjectNode> events = new ArrayList<>();
          for (int i = 0; i < preKeys; i++) {
            Account a = Account.create();
            Session s = a.createOutboundSession(ours, fallback);
            ObjectNode payload = MAPPER.createObjectNode();
            payload.put("type", "m.dummy").put("sender", MALLORY);
            payload.putObject("content");
            payload.put("recipient", "@someone-else:localhost");
            payload
                .putObject("recipient_keys")
                .put("ed25519", bot.machine.identityKeys().ed25519().toBase64());
            payload.putObject("keys").put("ed25519", a.ed25519Key().toBase64());
            var message = s.encrypt(payload.toString());
            ObjectNode c = MAPPER.createObjectNode();
            c.put("algorithm", "m.olm.v1.curve25519-aes-sha2");
            c.put("sender_key", a.curve25519Key().toBase64());
            c.putObject("ciphertext")
                .putObject(ours.toBase64())
                .put("type", message.type().wireType())
                .put("body", message.toBase64());
            events.add(event("m.room.encrypted", MALLORY, c));
          }
          bot.feed(events, seen);
        });
  }
}
