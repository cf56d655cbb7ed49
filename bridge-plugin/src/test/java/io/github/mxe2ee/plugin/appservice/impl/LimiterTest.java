package io.github.mxe2ee.plugin.appservice.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** At most {@code max} tasks run; the others start in call order as slots free up. */
class LimiterTest {

  @Test
  void neverMoreThanTheBoundInFlightAndAllRun() {
    Limiter limiter = new Limiter(3);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    List<Promise<Void>> started = new ArrayList<>();
    List<Future<Integer>> results = new ArrayList<>();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int n = i;
      results.add(
          limiter.run(
              () -> {
                peak.accumulateAndGet(running.incrementAndGet(), Math::max);
                order.add(n);
                Promise<Void> p = Promise.promise();
                started.add(p);
                return p.future()
                    .map(
                        v -> {
                          running.decrementAndGet();
                          return n;
                        });
              }));
    }
    assertEquals(3, started.size());
    for (int i = 0; i < 10; i++) {
      started.get(i).complete(); // completes one; the next waiting task starts
    }
    assertEquals(3, peak.get());
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), order);
    for (int i = 0; i < 10; i++) {
      assertEquals(i, results.get(i).result());
    }
    assertEquals(0, limiter.running());
    // A task that throws frees its slot too.
    assertTrue(
        limiter
            .run(
                () -> {
                  throw new IllegalStateException("x");
                })
            .failed());
    assertEquals(0, limiter.running());
  }
}
