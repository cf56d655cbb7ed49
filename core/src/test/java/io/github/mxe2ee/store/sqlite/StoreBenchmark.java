package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Measures the SQLite store at growing sizes: fill time, open time and per-lookup latency of
 * inbound group sessions (hits and misses), plus file size and Java heap after open. Not a unit
 * test; run it by hand (see {@code docs/PERFORMANCE.md}, section "Store") with the sizes to measure
 * as arguments, for example {@code 1000 10000 100000 1000000}.
 */
public final class StoreBenchmark {
  /** Lookups measured per size (after {@link #WARMUP} unmeasured ones). */
  static final int LOOKUPS = 20_000;

  static final int WARMUP = 5_000;

  /** Opens per size; the median is reported. */
  static final int OPENS = 7;

  private StoreBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("mxe2ee-store-bench");
    AccountId account = AccountId.of("@bench:example.org", "BENCH");
    System.out.println(
        "| sessions | fill (rows/s) | file (MB) | open median (ms) | hit p50 (µs) | hit p99 (µs) |"
            + " hit mean (µs) | miss mean (µs) | heap after open (MB) |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (String arg : args) {
      int n = Integer.parseInt(arg);
      Path file = dir.resolve("bench-" + n + ".db");
      long t0 = System.nanoTime();
      try (SqliteCryptoStore store = SqliteCryptoStore.open(file, account)) {
        SessionFiller.fill(store, n);
      }
      double fillRate = n / ((System.nanoTime() - t0) / 1e9);
      long[] opens = new long[OPENS];
      for (int i = 0; i < OPENS; i++) {
        long s = System.nanoTime();
        SqliteCryptoStore.open(file, account).close();
        opens[i] = System.nanoTime() - s;
      }
      Arrays.sort(opens);
      try (SqliteCryptoStore store = SqliteCryptoStore.open(file, account)) {
        Random random = new Random(42);
        for (int i = 0; i < WARMUP; i++) {
          int k = random.nextInt(n);
          store.inboundGroupSessions(SessionFiller.roomId(k), SessionFiller.sessionId(k)).stream()
              .findFirst();
        }
        long[] hits = new long[LOOKUPS];
        for (int i = 0; i < LOOKUPS; i++) {
          int k = random.nextInt(n);
          String room = SessionFiller.roomId(k);
          String session = SessionFiller.sessionId(k);
          long s = System.nanoTime();
          if (store.inboundGroupSessions(room, session).stream().findFirst().isEmpty()) {
            throw new IllegalStateException("missing session " + k);
          }
          hits[i] = System.nanoTime() - s;
        }
        long missTotal = 0;
        for (int i = 0; i < LOOKUPS; i++) {
          String room = SessionFiller.roomId(i);
          String session = SessionFiller.sessionId(n + i);
          long s = System.nanoTime();
          if (store.inboundGroupSessions(room, session).stream().findFirst().isPresent()) {
            throw new IllegalStateException("unexpected session");
          }
          missTotal += System.nanoTime() - s;
        }
        Arrays.sort(hits);
        System.gc();
        Runtime rt = Runtime.getRuntime();
        System.out.printf(
            "| %,d | %,.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
            n,
            fillRate,
            Files.size(file) / 1e6,
            opens[OPENS / 2] / 1e6,
            hits[LOOKUPS / 2] / 1e3,
            hits[LOOKUPS * 99 / 100] / 1e3,
            Arrays.stream(hits).average().orElse(0) / 1e3,
            missTotal / (double) LOOKUPS / 1e3,
            (rt.totalMemory() - rt.freeMemory()) / 1e6);
      }
      delete(file);
    }
    delete(dir);
  }

  private static void delete(Path p) throws IOException {
    Files.deleteIfExists(p.resolveSibling(p.getFileName() + "-wal"));
    Files.deleteIfExists(p.resolveSibling(p.getFileName() + "-shm"));
    Files.deleteIfExists(p);
  }
}
