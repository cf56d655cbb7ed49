package io.github.mxe2ee.benchmarks;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.InboundCreationResult;
import io.github.mxe2ee.olm.OlmMessage;
import io.github.mxe2ee.olm.PreKeyMessage;
import io.github.mxe2ee.olm.Session;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Olm with a 200-byte plaintext: outbound session creation plus its first encrypt (the cost of
 * sharing a room key with a new device: 3 X25519, 2 key generations, KDFs, AES, HMAC), inbound
 * session creation from a pre-key message plus its decrypt, and encrypt on a session used both
 * ways. Bob publishes a fallback key, which an inbound session does not consume, so the same
 * pre-key message serves every iteration; the vodozemac and libolm benchmarks do the same. Accounts
 * and messages are made in {@link #setUp()}, outside the measured code. Spec: {@code
 * shared/spec/matrix-spec/content/olm-megolm/olm.md}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Thread)
public class OlmBenchmark {
  private byte[] plaintext;
  private Account alice;
  private Account bob;
  private Curve25519PublicKey aliceIdentity;
  private Curve25519PublicKey bobIdentity;
  private Curve25519PublicKey bobFallback;
  private PreKeyMessage preKey;
  private Session established;

  /** Creates the accounts, a pre-key message, and a session that has been used both ways. */
  @Setup
  public void setUp() {
    SecureRandom random = new SecureRandom();
    plaintext = BenchConfig.event();
    alice = Account.create(random);
    bob = Account.create(random);
    bob.generateFallbackKey();
    bobFallback = bob.fallbackKey().values().iterator().next();
    aliceIdentity = alice.curve25519Key();
    bobIdentity = bob.curve25519Key();

    established = alice.createOutboundSession(bobIdentity, bobFallback);
    preKey = (PreKeyMessage) established.encrypt(plaintext);
    InboundCreationResult created = bob.createInboundSession(aliceIdentity, preKey);
    if (!Arrays.equals(plaintext, created.plaintext().getBytes(StandardCharsets.UTF_8))) {
      throw new IllegalStateException("set-up pre-key message does not round-trip");
    }
    AnyOlmMessage reply = created.session().encrypt(plaintext);
    established.decryptBytes(reply);
    if (!(established.encrypt(plaintext) instanceof OlmMessage)) {
      throw new IllegalStateException("set-up session is not established");
    }
  }

  /** Alice starts a session to Bob's fallback key and encrypts the first message. */
  @Benchmark
  public AnyOlmMessage outboundCreateEncrypt() {
    Session session = alice.createOutboundSession(bobIdentity, bobFallback);
    return session.encrypt(plaintext);
  }

  /** Bob creates a session from Alice's pre-key message and decrypts it. */
  @Benchmark
  public InboundCreationResult inboundPreKeyDecrypt() {
    return bob.createInboundSession(aliceIdentity, preKey);
  }

  /** Alice encrypts on her established sending chain (symmetric ratchet step only). */
  @Benchmark
  public AnyOlmMessage encryptExisting() {
    return established.encrypt(plaintext);
  }
}
