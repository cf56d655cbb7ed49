package io.github.mxe2ee.benchmarks;

import java.lang.management.ManagementFactory;
import java.util.List;
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
 * little). The native benchmarks report the same quantity (CLOCK_THREAD_CPUTIME_ID). It counts
 * every thread of the JVM: after warm-up the JIT and GC threads add little, and a multi-threaded
 * benchmark honestly reports the CPU of all its threads. Not thread-safe; one instance per fork.
 */
public final class CpuTimeProfiler implements InternalProfiler {
  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private long cpuStart;
  private long wallStart;

  @Override
  public String getDescription() {
    return "process CPU time per operation";
  }

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    cpuStart = os.getProcessCpuTime();
    wallStart = System.nanoTime();
  }

  @Override
  public List<? extends Result> afterIteration(
      BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
    long cpu = os.getProcessCpuTime() - cpuStart;
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
