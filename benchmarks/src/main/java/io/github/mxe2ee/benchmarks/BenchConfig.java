package io.github.mxe2ee.benchmarks;

/**
 * Workload sizes shared by every benchmark, identical to those of the native vodozemac and libolm
 * benchmarks in {@code bench/native/} so that the rows of {@code docs/PERFORMANCE.md} compare the
 * same work. Not thread-safe state: constants only.
 */
public final class BenchConfig {
  /** Plaintext size of one event: about a small {@code m.room.message} event. */
  public static final int EVENT_BYTES = 200;

  /** Number of events in the backlog benchmark (a client catching up on a busy room). */
  public static final int BACKLOG = 1000;

  private BenchConfig() {}

  /**
   * The deterministic, printable event plaintext ({@code a..z} repeated); its content does not
   * affect the timing.
   */
  public static byte[] event() {
    byte[] out = new byte[EVENT_BYTES];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) ('a' + i % 26);
    }
    return out;
  }
}
