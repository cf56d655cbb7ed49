package io.github.mxe2ee.benchmarks;

import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import java.security.SecureRandom;
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
 * The curve primitives that dominate Olm and Megolm: Ed25519 sign and verify (one of each per
 * Megolm message) and X25519 (three or four per Olm session set-up). The keys, message and
 * signature are made in {@link #setUp()}, outside the measured code; the message is the 200-byte
 * event of {@link BenchConfig}. Run by {@code scripts/bench.sh}; each JMH fork has its own state.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Thread)
public class PrimitivesBenchmark {
  private byte[] message;
  private Ed25519SecretKey signingKey;
  private Ed25519PublicKey verifyingKey;
  private byte[] verifyingKeyBytes;
  private Ed25519Signature signature;
  private Curve25519SecretKey ours;
  private Curve25519PublicKey theirs;

  /** Makes fresh keys and a valid signature. */
  @Setup
  public void setUp() {
    SecureRandom random = new SecureRandom();
    message = BenchConfig.event();
    signingKey = Ed25519SecretKey.generate(random);
    verifyingKeyBytes = signingKey.publicKey().toBytes();
    verifyingKey = Ed25519PublicKey.fromBytes(verifyingKeyBytes);
    signature = signingKey.sign(message);
    if (!verifyingKey.verify(message, signature)) {
      throw new IllegalStateException("set-up signature does not verify");
    }
    ours = Curve25519SecretKey.generate(random);
    theirs = Curve25519SecretKey.generate(random).publicKey();
  }

  /** Ed25519 signature over 200 bytes, from a seed key. */
  @Benchmark
  public Ed25519Signature ed25519Sign() {
    return signingKey.sign(message);
  }

  /**
   * Ed25519 verification over 200 bytes with one key used again and again, as a Megolm session's
   * key is: after its third use the key keeps precomputed tables.
   */
  @Benchmark
  public boolean ed25519Verify() {
    if (!verifyingKey.verify(message, signature)) {
      throw new IllegalStateException("signature did not verify");
    }
    return true;
  }

  /**
   * Ed25519 verification with a key decoded for it (a device key checked once): point decoding, no
   * per-key tables. {@link #ed25519Verify} reuses one key, as a Megolm session's key is reused.
   */
  @Benchmark
  public boolean ed25519VerifyNewKey() {
    Ed25519PublicKey key = Ed25519PublicKey.fromBytes(verifyingKeyBytes);
    if (!key.verify(message, signature)) {
      throw new IllegalStateException("signature did not verify");
    }
    return true;
  }

  /** One X25519 agreement. */
  @Benchmark
  public byte[] x25519Dh() {
    return ours.diffieHellman(theirs);
  }
}
