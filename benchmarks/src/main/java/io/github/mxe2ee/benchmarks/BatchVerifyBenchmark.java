package io.github.mxe2ee.benchmarks;

import io.github.mxe2ee.crypto.Ed25519BatchVerifier;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Verification of a 1,000-signature backlog by one key (a Megolm session's events), per signature:
 * one at a time on Bouncy Castle, batched with {@link Ed25519BatchVerifier}, and (labelled as such,
 * since it uses every core rather than one) single verification split over all cores. The signed
 * messages are the size of a Megolm message's signed part for a 200-byte event (about 230 bytes).
 * Keys and signatures are made in {@link #setUp()}, outside the measured code.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Thread)
public class BatchVerifyBenchmark {
  /** Length of the signed part of a Megolm message carrying a 200-byte event (v3, 8-byte MAC). */
  static final int SIGNED_BYTES = 1 + 1 + 3 + 2 + 208 + 8;

  private Ed25519PublicKey key;
  private List<byte[]> messages;
  private List<Ed25519Signature> signatures;
  private SecureRandom random;

  /** Signs {@link BenchConfig#BACKLOG} random messages with one fresh key. */
  @Setup
  public void setUp() {
    random = new SecureRandom();
    Ed25519SecretKey signer = Ed25519SecretKey.generate(random);
    key = signer.publicKey();
    messages = new ArrayList<>();
    signatures = new ArrayList<>();
    for (int i = 0; i < BenchConfig.BACKLOG; i++) {
      byte[] m = new byte[SIGNED_BYTES];
      random.nextBytes(m);
      messages.add(m);
      signatures.add(signer.sign(m));
    }
    for (boolean ok : Ed25519BatchVerifier.verify(key, messages, signatures, random)) {
      if (!ok) {
        throw new IllegalStateException("set-up signature does not verify");
      }
    }
  }

  /** One Bouncy Castle verification per signature, on one core. */
  @Benchmark
  @OperationsPerInvocation(BenchConfig.BACKLOG)
  public int backlogSingleVerify() {
    int ok = 0;
    for (int i = 0; i < BenchConfig.BACKLOG; i++) {
      if (key.verify(messages.get(i), signatures.get(i))) {
        ok++;
      }
    }
    return check(ok);
  }

  /** One batch verification of all signatures, on one core. */
  @Benchmark
  @OperationsPerInvocation(BenchConfig.BACKLOG)
  public int backlogBatchVerify() {
    int ok = 0;
    for (boolean b : Ed25519BatchVerifier.verify(key, messages, signatures, random)) {
      if (b) {
        ok++;
      }
    }
    return check(ok);
  }

  /**
   * Batch verification of one chunk per core, in parallel (ForkJoin common pool). Wall-clock time
   * per signature with every core busy: not comparable with the single-core rows.
   */
  @Benchmark
  @OperationsPerInvocation(BenchConfig.BACKLOG)
  public int backlogBatchVerifyAllCores() {
    int chunks = Math.max(1, ForkJoinPool.getCommonPoolParallelism() + 1);
    int per = (BenchConfig.BACKLOG + chunks - 1) / chunks;
    int ok =
        IntStream.range(0, chunks)
            .parallel()
            .map(
                c -> {
                  int from = c * per;
                  int to = Math.min(BenchConfig.BACKLOG, from + per);
                  int n = 0;
                  for (boolean b :
                      Ed25519BatchVerifier.verify(
                          key, messages.subList(from, to), signatures.subList(from, to), random)) {
                    if (b) {
                      n++;
                    }
                  }
                  return n;
                })
            .sum();
    return check(ok);
  }

  private static int check(int ok) {
    if (ok != BenchConfig.BACKLOG) {
      throw new IllegalStateException("only " + ok + " signatures verified");
    }
    return ok;
  }
}
