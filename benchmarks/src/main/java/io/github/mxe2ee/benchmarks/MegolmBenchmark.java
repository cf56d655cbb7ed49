package io.github.mxe2ee.benchmarks;

import io.github.mxe2ee.megolm.DecryptedMessage;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.megolm.SessionKey;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
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
 * Megolm with a 200-byte event: encrypt (ratchet step, AES-CBC, HMAC, Ed25519 signature), decrypt
 * of one event (Ed25519 verify, MAC, AES-CBC), and decrypt of a 1,000-event backlog with a fresh
 * inbound session (reported per event). Messages are parsed {@link MegolmMessage}s, as in the
 * vodozemac benchmark; sessions and messages are made in {@link #setUp()}, outside the measured
 * code. Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Thread)
public class MegolmBenchmark {
  private byte[] plaintext;
  private OutboundGroupSession outbound;
  private SessionKey sessionKey;
  private InboundGroupSession inbound;
  private MegolmMessage single;
  private MegolmMessage[] backlog;

  /** Creates the sessions and encrypts the backlog; checks that decryption round-trips. */
  @Setup
  public void setUp() {
    SecureRandom random = new SecureRandom();
    plaintext = BenchConfig.event();
    OutboundGroupSession sender = OutboundGroupSession.create(random);
    sessionKey = sender.sessionKey();
    backlog = new MegolmMessage[BenchConfig.BACKLOG];
    for (int i = 0; i < backlog.length; i++) {
      backlog[i] = MegolmMessage.fromBytes(sender.encrypt(plaintext).toBytes());
    }
    single = backlog[0];
    inbound = InboundGroupSession.fromSessionKey(sessionKey);
    if (!Arrays.equals(plaintext, inbound.decrypt(single).plaintext())) {
      throw new IllegalStateException("set-up decrypt does not round-trip");
    }
    outbound = OutboundGroupSession.create(random);
  }

  /** Encrypts one event (the session advances one index per call). */
  @Benchmark
  public MegolmMessage encrypt() {
    return outbound.encrypt(plaintext);
  }

  /** Decrypts the same event again: signature, MAC and AES, no ratchet advance. */
  @Benchmark
  public DecryptedMessage decrypt() {
    return inbound.decrypt(single);
  }

  /** Decrypts 1,000 consecutive events with a fresh inbound session; time per event. */
  @Benchmark
  @OperationsPerInvocation(BenchConfig.BACKLOG)
  public long decryptBacklog() {
    InboundGroupSession session = InboundGroupSession.fromSessionKey(sessionKey);
    long sum = 0;
    for (MegolmMessage m : backlog) {
      sum += session.decrypt(m).messageIndex();
    }
    return sum;
  }

  /**
   * The same backlog through {@link InboundGroupSession#decryptAll}: one Ed25519 batch verification
   * of all signatures, then MAC check and decryption per event; time per event, one core.
   */
  @Benchmark
  @OperationsPerInvocation(BenchConfig.BACKLOG)
  public long decryptBacklogBatch() {
    InboundGroupSession session = InboundGroupSession.fromSessionKey(sessionKey);
    long sum = 0;
    for (InboundGroupSession.Attempt a : session.decryptAll(java.util.Arrays.asList(backlog))) {
      sum += a.message().messageIndex();
    }
    return sum;
  }
}
