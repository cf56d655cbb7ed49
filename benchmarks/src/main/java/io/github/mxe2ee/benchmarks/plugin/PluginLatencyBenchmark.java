package io.github.mxe2ee.benchmarks.plugin;

import io.vertx.core.Context;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Issue 12, item 10.1: the latency the plugin adds to an encrypted event at a sustained rate (a
 * program, not a test, not JMH). The real plugin ({@code MatrixE2ee.create}, SQLite store, its
 * client at a {@link BenchHomeserver} on 127.0.0.1) receives a Megolm room key from a real sender
 * over Olm, then {@code /sync} bodies of {@code perBody} encrypted timeline events from that
 * sender, one body every {@code intervalMs} (1,000 events/s with the defaults 50 and 50), for
 * {@code warmupS} seconds not counted and then {@code seconds} seconds measured. All bodies are
 * encrypted before the clock starts; the network is not involved ({@code onSync} is called with the
 * body, as a bot's own loop would after its {@code /sync} answer arrived).
 *
 * <p>A pacing thread wakes at each body's due time {@code t0 + k * intervalMs} and hands the body
 * to a Vert.x event-loop context, which calls {@code onSync}. Per body it records:
 *
 * <ul>
 *   <li><b>batch latency</b>: from the due time to the completion of the future {@code onSync}
 *       returned (decrypted body in hand, the plugin's request pump drained). It includes the hop
 *       to the event loop, any wait behind earlier bodies (the plugin runs one body at a time on
 *       its worker), the parse, the store transaction and the decryption of every event. Every
 *       event of the body waits for this, so it is also the added latency per event.
 *   <li><b>per-event cost</b>: batch latency divided by the events in the body (the work per event,
 *       not a latency).
 * </ul>
 *
 * <p>Over the measured window it also prints the CPU time of the plugin's worker thread and of the
 * Vert.x event loops per event (thread CPU clocks: what the plugin costs, independent of how long
 * other processes kept it from running).
 *
 * <p>Every returned body is checked: all its events must come back decrypted. Usage: {@code
 * PluginLatencyBenchmark [perBody intervalMs seconds warmupS]}.
 */
public final class PluginLatencyBenchmark {
  private PluginLatencyBenchmark() {}

  public static void main(String[] args) throws Exception {
    int perBody = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    int intervalMs = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    int warmupS = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    int warmupBodies = warmupS * 1000 / intervalMs;
    int bodies = warmupBodies + seconds * 1000 / intervalMs;

    Path dir = Files.createTempDirectory("mxe2ee-plugin-latency");
    Bot bot = Bot.create(dir.resolve("bot.db"), null);
    bot.start();
    Sender sender = new Sender(bot.hs);
    bot.receiveRoomKey(sender);
    JsonObject probe =
        Bot.await(bot.e2ee.onSync(bot.body(new JsonArray().add(sender.encrypted(Bot.ROOM, "p")))));
    Bot.checkDecrypted(probe, 1);

    String text = "x".repeat(150);
    List<JsonObject> feed = new ArrayList<>(bodies);
    for (int k = 0; k < bodies; k++) {
      JsonArray events = new JsonArray();
      for (int i = 0; i < perBody; i++) {
        events.add(sender.encrypted(Bot.ROOM, text));
      }
      feed.add(bot.body(events));
    }
    System.out.printf(
        "plugin latency: %d bodies of %d events every %d ms (%.0f events/s), %d s warm-up + %d s"
            + " measured%n",
        bodies, perBody, intervalMs, perBody * 1000.0 / intervalMs, warmupS, seconds);

    long[] latency = new long[bodies];
    AtomicInteger decrypted = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(bodies);
    Context ctx = bot.vertx.getOrCreateContext();
    long gc0 = gcMillis();
    long gcCount0 = gcCount();
    long cpu0 = processCpuNanos();
    long worker0 = 0;
    long loop0 = 0;
    long t0 = System.nanoTime() + 100_000_000L;
    long measuredFrom = t0 + (long) warmupBodies * intervalMs * 1_000_000L;
    for (int k = 0; k < bodies; k++) {
      long due = t0 + (long) k * intervalMs * 1_000_000L;
      for (long now = System.nanoTime(); now < due; now = System.nanoTime()) {
        LockSupport.parkNanos(due - now);
      }
      if (k == warmupBodies) {
        worker0 = threadCpu("mxe2ee-");
        loop0 = threadCpu("vert.x-eventloop-");
        gc0 = gcMillis();
        gcCount0 = gcCount();
        cpu0 = processCpuNanos();
      }
      JsonObject body = feed.get(k);
      feed.set(k, null);
      int index = k;
      ctx.runOnContext(
          v ->
              bot.e2ee
                  .onSync(body)
                  .onComplete(
                      ar -> {
                        latency[index] = System.nanoTime() - due;
                        if (ar.succeeded()) {
                          try {
                            decrypted.addAndGet(Bot.checkDecrypted(ar.result(), perBody));
                          } catch (IllegalStateException e) {
                            failures.incrementAndGet();
                          }
                        } else {
                          failures.incrementAndGet();
                        }
                        done.countDown();
                      }));
    }
    if (!done.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("bodies still in flight after 2 minutes");
    }
    long wall = System.nanoTime() - measuredFrom;
    long worker = threadCpu("mxe2ee-") - worker0;
    long loop = threadCpu("vert.x-eventloop-") - loop0;
    long measuredEvents = (long) (bodies - warmupBodies) * perBody;
    long cpu = processCpuNanos() - cpu0;
    long gcMs = gcMillis() - gc0;
    long gcs = gcCount() - gcCount0;

    long[] measured = Arrays.copyOfRange(latency, warmupBodies, bodies);
    Arrays.sort(measured);
    System.out.printf(
        "events decrypted: %d of %d; failed bodies: %d%n",
        decrypted.get(), (long) bodies * perBody, failures.get());
    System.out.printf(
        "batch latency (due time -> decrypted body returned), %d bodies: p50 %.3f ms, p90 %.3f"
            + " ms, p99 %.3f ms, max %.3f ms%n",
        measured.length, ms(measured, 0.50), ms(measured, 0.90), ms(measured, 0.99), max(measured));
    System.out.printf(
        "per-event cost (batch latency / %d): p50 %.1f us, p99 %.1f us%n",
        perBody, ms(measured, 0.50) * 1000 / perBody, ms(measured, 0.99) * 1000 / perBody);
    System.out.printf(
        "measured window: process CPU %.0f%% of one core (%d ms CPU in %d ms), %d GCs (%d ms)%n",
        100.0 * cpu / wall, cpu / 1_000_000, wall / 1_000_000, gcs, gcMs);
    System.out.printf(
        "thread CPU per event in the measured window: plugin worker %.1f us, Vert.x event loops"
            + " %.1f us%n",
        worker / 1e3 / measuredEvents, loop / 1e3 / measuredEvents);
    sender.close();
    bot.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static double ms(long[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }

  private static double max(long[] sorted) {
    return sorted[sorted.length - 1] / 1e6;
  }

  /** CPU time of the live threads whose name starts with {@code prefix}, in nanoseconds. */
  private static long threadCpu(String prefix) {
    java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long sum = 0;
    for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith(prefix)) {
        sum += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
      }
    }
    return sum;
  }

  private static long gcMillis() {
    long t = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      t += Math.max(0, gc.getCollectionTime());
    }
    return t;
  }

  private static long gcCount() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
