package io.github.mxe2ee.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Issue 5, item 10: the engine's two large operations, timed end to end through {@link OlmMachine}
 * on a {@link SqliteCryptoStore} file (a plain timed main, not JMH: each operation is one long
 * call, measured {@value #ROUNDS} times on fresh state).
 *
 * <ol>
 *   <li><b>share</b>: a fresh room key for {@code users × devices} devices, from feeding the {@code
 *       /keys/claim} response (Olm session creation) to the to-device payloads ready ({@code
 *       shareRoomKey}); then again with the sessions existing (after a rotation);
 *   <li><b>decrypt</b>: {@code events} room events queued for a machine that was closed and opened
 *       again on its store, decrypted one by one.
 * </ol>
 *
 * <p>Run: {@code java -cp ... io.github.mxe2ee.benchmarks.EngineBenchmark [users devicesPerUser
 * events [repeats]]} (defaults 1000 10 100000 1; 0 users or 0 events skips that part; {@code
 * repeats} above 1 rotates and shares again with the existing sessions that many times in all per
 * round). Setup (key generation, device-list queries, encrypting the backlog) is not timed. Results
 * go to {@code docs/PERFORMANCE.md}, section "Engine".
 */
public final class EngineBenchmark {
  /** Events per {@code decryptRoomEvents} call in the batched decrypt run. */
  static final int BATCH = 1000;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** CPU time of the timing thread: less disturbed than wall time on a shared machine. */
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private static final String ROOM = "!bench:localhost";
  private static final String BOT = "@bot:localhost";
  private static final int ROUNDS = 3;

  /** The decryption backlog is large; two rounds show the warm figure. */
  private static final int DECRYPT_ROUNDS = 2;

  private EngineBenchmark() {}

  public static void main(String[] args) throws Exception {
    int users = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int perUser = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int events = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
    int repeats = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    System.out.printf(
        "java %s, %d cores, %s%n",
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.arch"));
    for (int round = 1; users > 0 && round <= ROUNDS; round++) {
      share(users, perUser, round, repeats);
    }
    for (int round = 1; events > 0 && round <= DECRYPT_ROUNDS; round++) {
      decrypt(events, round);
    }
  }

  private static byte[] key(int seed) {
    byte[] k = new byte[32];
    k[0] = (byte) seed;
    return k;
  }

  private static ObjectNode signedDeviceKeys(Account a, String user, String device) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("user_id", user).put("device_id", device);
    json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    json.putObject("keys")
        .put("curve25519:" + device, a.curve25519Key().toBase64())
        .put("ed25519:" + device, a.ed25519Key().toBase64());
    sign(a, json, user, device);
    return json;
  }

  private static void sign(Account a, ObjectNode json, String user, String device) {
    String sig = a.sign(JsonSigning.signedBytes(json)).toBase64();
    json.putObject("signatures").putObject(user).put("ed25519:" + device, sig);
  }

  /**
   * The first key upload of a fresh account: its own-user query is answered first with no keys for
   * the device (the machine uploads device keys only after that answer).
   */
  private static OutgoingRequest firstUpload(OlmMachine m) {
    for (int round = 0; round < 3; round++) {
      List<OutgoingRequest> out = m.outgoingRequests();
      for (OutgoingRequest r : out) {
        if (r.type() == RequestType.KEYS_UPLOAD) {
          return r;
        }
      }
      ObjectNode none = MAPPER.createObjectNode();
      none.putObject("device_keys").putObject(m.userId());
      none.putObject("failures");
      answerQueries(m, none);
    }
    throw new IllegalStateException("no key upload after the own-user query");
  }

  private static void share(int users, int perUser, int round, int repeats) throws Exception {
    SecureRandom random = new SecureRandom();
    Path dir = Files.createTempDirectory("mxe2ee-engine-bench");
    SaveTimer saves = new SaveTimer();
    CryptoStore store =
        saves.wrap(SqliteCryptoStore.open(dir.resolve("bot.db"), AccountId.of(BOT, "BOTDEVICE")));
    OlmMachine bot = OlmMachine.open(MachineConfig.of(BOT, "BOTDEVICE", key(1)), store);
    bot.markRequestAsSent(
        firstUpload(bot).requestId(), RequestType.KEYS_UPLOAD, MAPPER.createObjectNode());

    ObjectNode query = MAPPER.createObjectNode();
    ObjectNode queryKeys = query.putObject("device_keys");
    query.putObject("failures");
    ObjectNode claim = MAPPER.createObjectNode();
    ObjectNode claimKeys = claim.putObject("one_time_keys");
    claim.putObject("failures");
    List<String> userIds = new ArrayList<>();
    for (int u = 0; u < users; u++) {
      String user = "@user" + u + ":localhost";
      userIds.add(user);
      ObjectNode qu = queryKeys.putObject(user);
      ObjectNode cu = claimKeys.putObject(user);
      for (int d = 0; d < perUser; d++) {
        String device = "DEVICE" + d;
        Account a = Account.create(random);
        qu.set(device, signedDeviceKeys(a, user, device));
        Map.Entry<String, Curve25519PublicKey> otk =
            a.generateOneTimeKeys(1).entrySet().iterator().next();
        ObjectNode k = MAPPER.createObjectNode().put("key", otk.getValue().toBase64());
        sign(a, k, user, device);
        cu.putObject(device).set("signed_curve25519:" + otk.getKey(), k);
      }
    }
    bot.updateTrackedUsers(userIds);
    answerQueries(bot, query);
    OutgoingRequest c = bot.getMissingSessions(userIds).orElseThrow();

    long t0 = System.nanoTime();
    bot.markRequestAsSent(c.requestId(), RequestType.KEYS_CLAIM, claim);
    long t1 = System.nanoTime();
    List<OutgoingRequest> toDevice = bot.shareRoomKey(ROOM, userIds);
    long t2 = System.nanoTime();
    int messages = count(toDevice, "m.room.encrypted");

    bot.invalidateGroupSession(ROOM);
    long t3 = System.nanoTime();
    saves.nanos = 0;
    long cpu0 = THREADS.getCurrentThreadCpuTime();
    List<OutgoingRequest> again = bot.shareRoomKey(ROOM, userIds);
    long t4 = System.nanoTime();
    long againCpu = THREADS.getCurrentThreadCpuTime() - cpu0;
    long againSave = saves.nanos;
    int messagesAgain = count(again, "m.room.encrypted");
    System.out.printf(
        "share round %d: %d devices of %d users: new sessions %d ms (claim response %d ms +"
            + " shareRoomKey %d ms), %d payloads; existing sessions %d ms (thread CPU %d ms, store save %d"
            + " ms), %d payloads%n",
        round,
        users * perUser,
        users,
        (t2 - t0) / 1_000_000,
        (t1 - t0) / 1_000_000,
        (t2 - t1) / 1_000_000,
        messages,
        (t4 - t3) / 1_000_000,
        againCpu / 1_000_000,
        againSave / 1_000_000,
        messagesAgain);
    // Optional extra rotations on the same sessions: more warm samples of the existing-sessions
    // share per round (and a longer window for a profiler).
    if (repeats > 1) {
      StringBuilder times = new StringBuilder();
      double allocatedMb = 0;
      for (int i = 1; i < repeats; i++) {
        bot.invalidateGroupSession(ROOM);
        saves.nanos = 0;
        long a0 = allocated();
        long c0 = THREADS.getCurrentThreadCpuTime();
        long r0 = System.nanoTime();
        bot.shareRoomKey(ROOM, userIds);
        long r1 = System.nanoTime();
        long c1 = THREADS.getCurrentThreadCpuTime();
        allocatedMb += (allocated() - a0) / 1e6;
        times
            .append(times.length() == 0 ? "" : ", ")
            .append((r1 - r0) / 1_000_000)
            .append(" (")
            .append((c1 - c0) / 1_000_000)
            .append(", ")
            .append(saves.nanos / 1_000_000)
            .append(")");
      }
      System.out.printf(
          "share round %d: existing sessions again, ms (thread CPU, store save): %s; %.0f MB"
              + " allocated per share%n",
          round, times, allocatedMb / (repeats - 1));
    }
    bot.close();
    store.close();
    deleteTree(dir);
  }

  /** Removes a benchmark's temporary store (the database with its WAL and shared-memory files). */
  private static void deleteTree(Path dir) throws java.io.IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Bytes allocated by this thread so far (HotSpot), or 0 where the JVM does not tell. */
  private static long allocated() {
    return THREADS instanceof com.sun.management.ThreadMXBean hs
        ? hs.getThreadAllocatedBytes(Thread.currentThread().getId())
        : 0;
  }

  /**
   * Times {@link CryptoStore#save} calls on a wrapped store (the rest of each call passes through).
   */
  private static final class SaveTimer {
    long nanos;

    CryptoStore wrap(CryptoStore store) {
      return (CryptoStore)
          Proxy.newProxyInstance(
              CryptoStore.class.getClassLoader(),
              new Class<?>[] {CryptoStore.class},
              (proxy, method, args) -> {
                long t = System.nanoTime();
                try {
                  return method.invoke(store, args);
                } catch (InvocationTargetException e) {
                  throw e.getCause();
                } finally {
                  if (method.getName().equals("save")) {
                    nanos += System.nanoTime() - t;
                  }
                }
              });
    }
  }

  /** Answers every pending query (ours included) with {@code response}. */
  private static void answerQueries(OlmMachine m, ObjectNode response) {
    for (OutgoingRequest r : m.outgoingRequests()) {
      if (r.type() == RequestType.KEYS_QUERY) {
        m.markRequestAsSent(r.requestId(), RequestType.KEYS_QUERY, response);
      }
    }
  }

  private static int count(List<OutgoingRequest> requests, String eventType) {
    int n = 0;
    for (OutgoingRequest r : requests) {
      if (eventType.equals(r.eventType())) {
        for (JsonNode user : r.body().path("messages")) {
          n += user.size();
        }
      }
    }
    return n;
  }

  private static void decrypt(int events, int round) throws Exception {
    String sender = "@sender:localhost";
    String receiver = "@receiver:localhost";
    Path dir = Files.createTempDirectory("mxe2ee-engine-bench");
    Path file = dir.resolve("receiver.db");
    AccountId rid = AccountId.of(receiver, "RECEIVER");
    CryptoStore rstore = SqliteCryptoStore.open(file, rid);
    OlmMachine recv = OlmMachine.open(MachineConfig.of(receiver, "RECEIVER", key(2)), rstore);
    // The sender only prepares the backlog (not timed): in memory, no fsync per encrypted event.
    CryptoStore sstore = MemoryCryptoStore.create(AccountId.of(sender, "S"));
    OlmMachine send = OlmMachine.open(MachineConfig.of(sender, "S", key(3)), sstore);

    OutgoingRequest upload = firstUpload(recv);
    recv.markRequestAsSent(upload.requestId(), RequestType.KEYS_UPLOAD, MAPPER.createObjectNode());
    ObjectNode query = MAPPER.createObjectNode();
    query
        .putObject("device_keys")
        .putObject(receiver)
        .set("RECEIVER", upload.body().get("device_keys"));
    send.updateTrackedUsers(List.of(receiver));
    answerQueries(send, query);
    var otk = upload.body().path("one_time_keys").fields().next();
    ObjectNode claim = MAPPER.createObjectNode();
    claim
        .putObject("one_time_keys")
        .putObject(receiver)
        .putObject("RECEIVER")
        .set(otk.getKey(), otk.getValue());
    OutgoingRequest c = send.getMissingSessions(List.of(receiver)).orElseThrow();
    send.markRequestAsSent(c.requestId(), RequestType.KEYS_CLAIM, claim);
    OutgoingRequest roomKey = send.shareRoomKey(ROOM, List.of(receiver)).get(0);
    ObjectNode toDevice = MAPPER.createObjectNode();
    toDevice.put("sender", sender);
    toDevice.put("type", "m.room.encrypted");
    toDevice.set("content", roomKey.body().path("messages").path(receiver).path("RECEIVER"));
    recv.receiveSyncChanges(
        new SyncChanges(List.of(toDevice), List.of(), List.of(), null, null, null));

    List<ObjectNode> backlog = new ArrayList<>(events);
    ObjectNode text =
        MAPPER.createObjectNode().put("msgtype", "m.text").put("body", "x".repeat(150));
    for (int i = 0; i < events; i++) {
      ObjectNode e = MAPPER.createObjectNode();
      e.put("type", "m.room.encrypted");
      e.put("sender", sender);
      e.put("event_id", "$" + i + ":localhost");
      e.put("origin_server_ts", 1_700_000_000_000L + i);
      e.put("room_id", ROOM);
      e.set("content", send.encryptRoomEvent(ROOM, "m.room.message", text));
      backlog.add(e);
    }
    recv.close();
    rstore.close();

    long t0 = System.nanoTime();
    CryptoStore reopened = SqliteCryptoStore.open(file, rid);
    OlmMachine again = OlmMachine.open(MachineConfig.of(receiver, "RECEIVER", key(2)), reopened);
    int ok = 0;
    for (ObjectNode e : backlog) {
      if (again.decryptRoomEvent(ROOM, e) instanceof DecryptionResult.Decrypted) {
        ok++;
      }
    }
    long t1 = System.nanoTime();
    System.out.printf(
        "decrypt round %d: %d queued events after reopen: %d ms (%.1f us/event), %d decrypted%n",
        round, events, (t1 - t0) / 1_000_000, (t1 - t0) / 1000.0 / events, ok);
    again.close();
    reopened.close();

    // The same backlog through decryptRoomEvents, in pages of BATCH events (a /messages page).
    long b0 = System.nanoTime();
    CryptoStore reopened2 = SqliteCryptoStore.open(file, rid);
    OlmMachine batched = OlmMachine.open(MachineConfig.of(receiver, "RECEIVER", key(2)), reopened2);
    int okBatch = 0;
    for (int from = 0; from < backlog.size(); from += BATCH) {
      for (DecryptionResult r :
          batched.decryptRoomEvents(
              ROOM, backlog.subList(from, Math.min(backlog.size(), from + BATCH)))) {
        if (r instanceof DecryptionResult.Decrypted) {
          okBatch++;
        }
      }
    }
    long b1 = System.nanoTime();
    System.out.printf(
        "decrypt round %d (batched, %d per call): %d queued events after reopen: %d ms (%.1f"
            + " us/event), %d decrypted%n",
        round, BATCH, events, (b1 - b0) / 1_000_000, (b1 - b0) / 1000.0 / events, okBatch);
    batched.close();
    reopened2.close();
    send.close();
    sstore.close();
    deleteTree(dir);
  }
}
