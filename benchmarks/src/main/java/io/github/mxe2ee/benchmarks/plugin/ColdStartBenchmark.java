package io.github.mxe2ee.benchmarks.plugin;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.RoomKeyImportResult;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Issue 12, item 10.2: cold start of a bot whose store holds many inbound Megolm sessions, to its
 * first decrypted event (a program, not a test, not JMH). Two modes:
 *
 * <ul>
 *   <li>{@code build DIR [sessions]} (default 100,000): the real plugin starts on a fresh store
 *       {@code DIR/bot.db} at a {@link BenchHomeserver}, receives a room key from a real sender
 *       over Olm (the session of the event to decrypt) and stops; then an {@link OlmMachine} on the
 *       same file imports {@code sessions - 1} more sessions ({@link OlmMachine#importRoomKeys},
 *       10,000 per call, spread over 1,000 rooms and 100 sender devices). One event of the sender's
 *       session, never fed to the bot, is written to {@code DIR/event.json}, the keys the server
 *       held (the bot's and the sender's device keys) to {@code DIR/keys.json}.
 *   <li>{@code run DIR [times]}: copies {@code DIR/bot.db} to a fresh file (so every run starts
 *       from the same store), starts a homeserver that holds {@code keys.json}, logs the client in,
 *       then times {@link io.github.mxe2ee.plugin.MatrixE2ee#start()} and the first {@code onSync}
 *       with the one encrypted event until it returns decrypted. Run it in a fresh JVM per
 *       measurement; with {@code times} above 1 the same JVM then starts again (a new Vert.x,
 *       server, plugin and copy of the store each time): those later runs show the cost without the
 *       JVM's own warm-up (class loading, interpreted code, the SQLite native library's
 *       extraction).
 * </ul>
 */
public final class ColdStartBenchmark {
  private static final int IMPORT_BATCH = 10_000;

  private ColdStartBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("build")) {
      build(Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 100_000);
    } else if (args.length >= 2 && args[0].equals("run")) {
      int times = args.length > 2 ? Integer.parseInt(args[2]) : 1;
      for (int i = 1; i <= times; i++) {
        run(Path.of(args[1]), i);
      }
    } else {
      System.err.println("usage: ColdStartBenchmark build DIR [sessions] | run DIR");
      System.exit(2);
    }
  }

  private static void build(Path dir, int sessions) throws Exception {
    Files.createDirectories(dir);
    Path db = dir.resolve("bot.db");
    if (Files.exists(db)) {
      throw new IllegalStateException(db + " exists; build into an empty folder");
    }
    long t0 = System.nanoTime();
    Bot bot = Bot.create(db, null);
    bot.start();
    Sender sender = new Sender(bot.hs);
    bot.receiveRoomKey(sender);
    JsonObject check =
        Bot.await(bot.e2ee.onSync(bot.body(new JsonArray().add(sender.encrypted(Bot.ROOM, "a")))));
    Bot.checkDecrypted(check, 1);
    JsonObject event = sender.encrypted(Bot.ROOM, "the first event after a restart");
    Files.writeString(dir.resolve("event.json"), event.encodePrettily());
    Files.writeString(dir.resolve("keys.json"), bot.hs.allDeviceKeys().encodePrettily());
    sender.close();
    bot.close();

    SecureRandom random = new SecureRandom();
    List<Account> devices = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      devices.add(Account.create(random));
    }
    SqliteCryptoStore store = SqliteCryptoStore.open(db, AccountId.of(Bot.USER, Bot.DEVICE));
    OlmMachine machine =
        OlmMachine.open(MachineConfig.of(Bot.USER, Bot.DEVICE, Bot.PICKLE_KEY), store);
    long imported = 0;
    for (int from = 1; from < sessions; from += IMPORT_BATCH) {
      List<ExportedRoomKey> keys = new ArrayList<>();
      for (int i = from; i < Math.min(sessions, from + IMPORT_BATCH); i++) {
        Account device = devices.get(i % devices.size());
        OutboundGroupSession out = OutboundGroupSession.create(random);
        Curve25519PublicKey senderKey = device.curve25519Key();
        Ed25519PublicKey claimed = device.ed25519Key();
        keys.add(
            ExportedRoomKey.fromSession(
                InboundGroupSession.fromSessionKey(out.sessionKey()),
                "!room" + (i % 1000) + ":localhost",
                senderKey,
                claimed,
                List.of(),
                false));
      }
      RoomKeyImportResult result = machine.importRoomKeys(keys);
      imported += result.imported();
    }
    machine.close();
    store.close();
    System.out.printf(
        "built %s: %,d inbound sessions (1 by Olm m.room_key + %,d imported), %.1f MB, %d s%n",
        db, imported + 1, imported, Files.size(db) / 1e6, (System.nanoTime() - t0) / 1_000_000_000);
  }

  private static void run(Path dir, int attempt) throws Exception {
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    long mainAt = System.currentTimeMillis();
    Path runDir = Files.createTempDirectory("mxe2ee-cold-start");
    Path db = runDir.resolve("bot.db");
    Files.copy(dir.resolve("bot.db"), db, StandardCopyOption.REPLACE_EXISTING);
    JsonObject keys = new JsonObject(Files.readString(dir.resolve("keys.json")));
    JsonObject event = new JsonObject(Files.readString(dir.resolve("event.json")));
    Bot bot = Bot.create(db, keys);
    long requests0 = bot.hs.requests();

    long t0 = System.nanoTime();
    bot.start();
    long t1 = System.nanoTime();
    JsonObject first = Bot.await(bot.e2ee.onSync(bot.body(new JsonArray().add(event))));
    long t2 = System.nanoTime();
    Bot.checkDecrypted(first, 1);
    long requests = bot.hs.requests() - requests0;
    long total = System.currentTimeMillis() - jvmStart;
    System.out.printf(
        "run %d: start() %.1f ms + first onSync %.1f ms = %.1f ms to the first decrypted event (%d"
            + " HTTP requests to 127.0.0.1 in it)%s%n",
        attempt,
        (t1 - t0) / 1e6,
        (t2 - t1) / 1e6,
        (t2 - t0) / 1e6,
        requests,
        attempt == 1
            ? String.format(
                "; fresh JVM: JVM start to main %d ms, to decrypted %d ms (store copy included)",
                mainAt - jvmStart, total)
            : "; same JVM as run 1");
    bot.close();
    try (var files = Files.walk(runDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
