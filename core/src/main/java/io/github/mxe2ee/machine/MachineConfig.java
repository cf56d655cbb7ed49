package io.github.mxe2ee.machine;

import io.github.mxe2ee.crypto.PickleCipher;
import io.github.mxe2ee.device.SharingStrategy;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Immutable configuration of an {@link OlmMachine}. Build with {@link #of} and the {@code with*}
 * methods; every other value has a default named by a constant.
 *
 * @param userId our Matrix user id
 * @param deviceId our device id
 * @param pickleKey the 32-byte key that encrypts every pickle before it reaches the store (a copy
 *     is kept; never printed)
 * @param sharingStrategy which devices get room keys (default {@link #DEFAULT_SHARING_STRATEGY})
 * @param clock time source; core never reads the wall clock itself
 * @param random randomness for keys
 * @param limits bounds on what remote parties can make the machine queue or store (default {@link
 *     MachineLimits#DEFAULT})
 */
public record MachineConfig(
    String userId,
    String deviceId,
    byte[] pickleKey,
    SharingStrategy sharingStrategy,
    Clock clock,
    SecureRandom random,
    MachineLimits limits,
    RotationPolicy rotation,
    KeyRequestPolicy keyRequestPolicy) {

  /** Default: share with every device that is not blacklisted, as Element does by default. */
  public static final SharingStrategy DEFAULT_SHARING_STRATEGY = SharingStrategy.ALL_DEVICES;

  /**
   * Default rotation period when {@code m.room.encryption} names none: one week (spec); see {@link
   * RotationPolicy#DEFAULT}.
   */
  public static final Duration DEFAULT_ROTATION_PERIOD = Duration.ofDays(7);

  /** Default rotation count when {@code m.room.encryption} names none: 100 messages (spec). */
  public static final long DEFAULT_ROTATION_MESSAGES = 100;

  /**
   * Longest rotation period the machine honours, whatever {@code m.room.encryption} asks: one week.
   * Anyone who can change a room's state could otherwise make the bot keep one Megolm session (and
   * so expose everything it encrypts to whoever gets that session key) for years.
   */
  public static final Duration MAX_ROTATION_PERIOD = Duration.ofDays(7);

  /** Most messages per outbound Megolm session the machine honours: 10,000 (same reason). */
  public static final long MAX_ROTATION_MESSAGES = 10_000;

  /** Compact canonical constructor: checks and copies. */
  public MachineConfig {
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(deviceId, "deviceId");
    if (pickleKey == null || pickleKey.length != PickleCipher.MXE2EE_KEY_LENGTH) {
      throw new IllegalArgumentException("pickle key must be 32 bytes");
    }
    pickleKey = pickleKey.clone();
    Objects.requireNonNull(sharingStrategy, "sharingStrategy");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(random, "random");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(rotation, "rotation");
    Objects.requireNonNull(keyRequestPolicy, "keyRequestPolicy");
  }

  /** The configuration with the default {@link RotationPolicy} and {@link KeyRequestPolicy}. */
  public MachineConfig(
      String userId,
      String deviceId,
      byte[] pickleKey,
      SharingStrategy sharingStrategy,
      Clock clock,
      SecureRandom random,
      MachineLimits limits) {
    this(
        userId,
        deviceId,
        pickleKey,
        sharingStrategy,
        clock,
        random,
        limits,
        RotationPolicy.DEFAULT,
        KeyRequestPolicy.OWN_VERIFIED_DEVICES);
  }

  /** The configuration without explicit limits: {@link MachineLimits#DEFAULT}. */
  public MachineConfig(
      String userId,
      String deviceId,
      byte[] pickleKey,
      SharingStrategy sharingStrategy,
      Clock clock,
      SecureRandom random) {
    this(userId, deviceId, pickleKey, sharingStrategy, clock, random, MachineLimits.DEFAULT);
  }

  /** A configuration with default strategy, the system clock and a fresh {@link SecureRandom}. */
  public static MachineConfig of(String userId, String deviceId, byte[] pickleKey) {
    return new MachineConfig(
        userId,
        deviceId,
        pickleKey,
        DEFAULT_SHARING_STRATEGY,
        Clock.systemUTC(),
        new SecureRandom());
  }

  /** A copy with another sharing strategy. */
  public MachineConfig withSharingStrategy(SharingStrategy strategy) {
    return new MachineConfig(
        userId, deviceId, pickleKey, strategy, clock, random, limits, rotation, keyRequestPolicy);
  }

  /** A copy with another clock (tests). */
  public MachineConfig withClock(Clock newClock) {
    return new MachineConfig(
        userId,
        deviceId,
        pickleKey,
        sharingStrategy,
        newClock,
        random,
        limits,
        rotation,
        keyRequestPolicy);
  }

  /** A copy with other bounds on what remote parties can make the machine queue or store. */
  public MachineConfig withLimits(MachineLimits newLimits) {
    return new MachineConfig(
        userId,
        deviceId,
        pickleKey,
        sharingStrategy,
        clock,
        random,
        newLimits,
        rotation,
        keyRequestPolicy);
  }

  /** A copy with another rotation policy for outbound Megolm sessions. */
  public MachineConfig withRotation(RotationPolicy newRotation) {
    return new MachineConfig(
        userId,
        deviceId,
        pickleKey,
        sharingStrategy,
        clock,
        random,
        limits,
        newRotation,
        keyRequestPolicy);
  }

  /** A copy with another policy for answering key requests. */
  public MachineConfig withKeyRequestPolicy(KeyRequestPolicy policy) {
    return new MachineConfig(
        userId, deviceId, pickleKey, sharingStrategy, clock, random, limits, rotation, policy);
  }

  /** A copy of the pickle key. */
  @Override
  public byte[] pickleKey() {
    return pickleKey.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o == this;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  @Override
  public String toString() {
    return "MachineConfig[" + userId + "/" + deviceId + ", " + sharingStrategy + "]";
  }
}
