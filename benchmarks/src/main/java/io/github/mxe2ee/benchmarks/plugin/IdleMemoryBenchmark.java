package io.github.mxe2ee.benchmarks.plugin;

import io.github.mxe2ee.plugin.bot.SyncLoop;
import io.github.mxe2ee.plugin.bot.SyncLoopOptions;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Issue 12, item 10.3: the memory of an idle bot (a program, not a test). The real plugin starts on
 * a store, its {@link SyncLoop} runs against a {@link BenchHomeserver} whose {@code /sync} answers
 * an empty body after {@code delayMs} (a long poll with no news), and after {@code idleSeconds} the
 * program prints the Java heap in use after full GCs and the process's resident set ({@code VmRSS},
 * and its peak {@code VmHWM}, from {@code /proc/self/status}); also both before anything was
 * created (the JVM alone), so the difference is what the bot adds.
 *
 * <p>Usage: {@code IdleMemoryBenchmark fresh|DIR [idleSeconds delayMs]}: {@code fresh} starts on a
 * new store; {@code DIR} on a copy of the store built by {@code ColdStartBenchmark build DIR}.
 */
public final class IdleMemoryBenchmark {
  private IdleMemoryBenchmark() {}

  public static void main(String[] args) throws Exception {
    String which = args.length > 0 ? args[0] : "fresh";
    int idleSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    long delayMs = args.length > 2 ? Long.parseLong(args[2]) : 1_000;
    long heap0 = Bot.heapAfterGc();
    long rss0 = Bot.procStatusKb("VmRSS");

    Path runDir = Files.createTempDirectory("mxe2ee-idle");
    Path db = runDir.resolve("bot.db");
    JsonObject keys = null;
    if (!which.equals("fresh")) {
      Path dir = Path.of(which);
      Files.copy(dir.resolve("bot.db"), db, StandardCopyOption.REPLACE_EXISTING);
      keys = new JsonObject(Files.readString(dir.resolve("keys.json")));
    }
    Bot bot = Bot.create(db, keys);
    bot.start();
    bot.hs.setSyncDelayMs(delayMs);
    SyncLoop loop =
        SyncLoop.create(
                bot.vertx,
                bot.client,
                bot.e2ee,
                new SyncLoopOptions(),
                batch -> Future.succeededFuture())
            .start();
    Thread.sleep(idleSeconds * 1000L);
    long heap = Bot.heapAfterGc();
    long rss = Bot.procStatusKb("VmRSS");
    long hwm = Bot.procStatusKb("VmHWM");
    System.out.printf(
        "idle bot (%s store, %.1f MB file), %d s idle, /sync answered empty after %d ms (%d"
            + " syncs, %d batches handled): heap after GC %.1f MB (JVM alone %.1f MB, bot adds %.1f"
            + " MB); VmRSS %.1f MB (JVM alone %.1f MB), VmHWM %.1f MB; max heap %.0f MB%n",
        which.equals("fresh") ? "fresh" : "built",
        Files.size(db) / 1e6,
        idleSeconds,
        delayMs,
        bot.hs.syncs(),
        loop.batches(),
        heap / 1048576.0,
        heap0 / 1048576.0,
        (heap - heap0) / 1048576.0,
        rss / 1024.0,
        rss0 / 1024.0,
        hwm / 1024.0,
        Runtime.getRuntime().maxMemory() / 1048576.0);
    Bot.await(loop.stop());
    bot.close();
    try (var files = Files.walk(runDir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
