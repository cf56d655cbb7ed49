package io.github.mxe2ee.sas;

import io.github.mxe2ee.crypto.Ed25519PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Objects;

/**
 * Our side of every verification: who we are, where public keys come from, and the injected time
 * and randomness (core never reads the wall clock). Immutable.
 *
 * @param userId our user id
 * @param deviceId our device id
 * @param ed25519 our device's Ed25519 key (the key we send a MAC for)
 * @param keys the key directory
 * @param clock time source for timestamps and timeouts
 * @param random randomness for ephemeral keys and transaction ids
 */
public record SasContext(
    String userId,
    String deviceId,
    Ed25519PublicKey ed25519,
    KeyDirectory keys,
    Clock clock,
    SecureRandom random) {
  /** Checks for nulls. */
  public SasContext {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(ed25519, "ed25519");
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(random, "random");
  }

  long now() {
    return clock.millis();
  }
}
