package io.github.mxe2ee.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * JMH profiler ({@code -prof io.github.mxe2ee.benchmarks.CpuTimeProfiler}) that reports the CPU
 * time the benchmark JVM consumed per operation ({@code ·cpu}, ns/op), next to JMH's wall-clock
 * score. On the shared 2-core development machine other users' builds preempt the benchmark, which
 * inflates wall-clock time; CPU time counts only the time the process actually ran, so it stays
 * comparable across runs at different loads (caches shared with other processes still cost a
 * little). The native benchmarks report the same quantity (CLOCK_THREAD_CPUTIME_ID). It sums the
 * nanosecond thread CPU clocks of every live JVM thread (the process clock ticks only every 10 ms):
 * after warm-up the JIT and GC threads add little, and a multi-threaded benchmark honestly reports
 * the CPU of all its threads. Not thread-safe; one instance per fork.
 */
public final class CpuTimeProfiler implements InternalProfiler {
  private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
  private Map<Long, Long> cpuStart = Map.of();
  private long wallStart;

  private Map<Long, Long> snapshot() {
    Map<Long, Long> out = new HashMap<>();
    for (long id : threads.getAllThreadIds()) {
      long t = threads.getThreadCpuTime(id);
      if (t >= 0) {
        out.put(id, t);
      }
    }
    return out;
  }

  @Override
  public String getDescription() {
    return "process CPU time per operation";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    cpuStart = snapshot();
    wallStart = System.nanoTime();
  }

  @Override
  public List<? extends Result> afterIteration(
      BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
    long cpu = 0;
    for (Map.Entry<Long, Long> e : snapshot().entrySet()) {
      cpu += e.getValue() - cpuStart.getOrDefault(e.getKey(), 0L);
    }
    long wall = System.nanoTime() - wallStart;
    long ops = result.getMetadata() == null ? 0 : result.getMetadata().getMeasuredOps();
    if (ops <= 0) {
      return List.of();
    }
    return List.of(
        new ScalarResult("cpu", (double) cpu / ops, "ns/op", AggregationPolicy.AVG),
        new ScalarResult("cpu.share", (double) cpu / wall, "cores", AggregationPolicy.AVG));
  }
}
