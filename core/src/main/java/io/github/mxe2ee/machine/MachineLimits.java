package io.github.mxe2ee.machine;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds on everything a remote party can make the machine queue or store (issue 11;
 * docs/SECURITY.md, "Bounds on what a remote party can make the bot store or queue"). Every value
 * is checked before any state is written: an input over a bound is dropped (and counted in {@link
 * OlmMachine#stats()}), never half-applied. Immutable; set with {@link
 * MachineConfig#withLimits(MachineLimits)}, starting from {@link #DEFAULT}.
 *
 * @param maxKeyRequestRepliesPerDevicePerMinute replies (keys or refusals) to one requesting device
 *     per minute
 * @param maxKeyRequestRepliesPerUserPerMinute replies to all devices of one user per minute: a user
 *     can register any number of devices, so the per-device bound alone is no bound
 * @param maxKeyRequestRepliesPerMinute replies to everyone per minute: many users together
 * @param maxWithheldRecords stored {@code m.room_key.withheld} records overall; past it the oldest
 *     are pruned
 * @param maxWithheldPerSender stored withheld records from one sending device (Curve25519 key);
 *     past it that sender's oldest are pruned
 * @param maxNewOlmSessionsPerSenderPerHour inbound Olm sessions a sending user can make the machine
 *     create per hour (each pre-key message on our fallback key would otherwise store one)
 * @param maxUnwedgesPerHour Olm channels replaced (new session plus {@code m.dummy}) per hour
 *     overall, on top of the spec's once an hour per device
 * @param maxDevicesPerUser devices kept from a {@code /keys/query} answer for one user; known
 *     devices are kept first, the excess is refused
 * @param retryBackoffBase first wait before a failed request the machine regenerates (a {@code
 *     /keys/query}) is sent again; doubled after each further failure
 * @param retryBackoffMax longest such wait
 */
public record MachineLimits(
    int maxKeyRequestRepliesPerDevicePerMinute,
    int maxKeyRequestRepliesPerUserPerMinute,
    int maxKeyRequestRepliesPerMinute,
    int maxWithheldRecords,
    int maxWithheldPerSender,
    int maxNewOlmSessionsPerSenderPerHour,
    int maxUnwedgesPerHour,
    int maxDevicesPerUser,
    Duration retryBackoffBase,
    Duration retryBackoffMax) {

  /**
   * Longest id (room, session, device, request, sender key) the machine stores, queues or echoes:
   * 255 bytes, the spec's limit on Matrix ids. A longer one is dropped, never answered, so that a
   * 10 MiB {@code session_id} cannot become a 10 MiB reply or row.
   */
  public static final int MAX_ID_LENGTH = 255;

  /**
   * Open outgoing key requests (not yet answered) kept at most, also within one decryption batch:
   * anyone in a room can send events naming made-up sessions, and each would otherwise add a stored
   * request and a to-device message to our own devices.
   */
  public static final int MAX_OPEN_KEY_REQUESTS = 1_000;

  /**
   * The defaults: 20 replies per device, 100 per user and 1,000 overall per minute; 10,000 withheld
   * records, 1,000 per sender; 100 new Olm sessions per sender and 100 unwedges overall per hour;
   * 1,000 devices per user; retries after 2 s, doubling up to 5 minutes.
   */
  public static final MachineLimits DEFAULT =
      new MachineLimits(
          20,
          100,
          1_000,
          10_000,
          1_000,
          100,
          100,
          1_000,
          Duration.ofSeconds(2),
          Duration.ofMinutes(5));

  /** Compact canonical constructor: every count must be positive, durations positive. */
  public MachineLimits {
    positive(maxKeyRequestRepliesPerDevicePerMinute, "maxKeyRequestRepliesPerDevicePerMinute");
    positive(maxKeyRequestRepliesPerUserPerMinute, "maxKeyRequestRepliesPerUserPerMinute");
    positive(maxKeyRequestRepliesPerMinute, "maxKeyRequestRepliesPerMinute");
    positive(maxWithheldRecords, "maxWithheldRecords");
    positive(maxWithheldPerSender, "maxWithheldPerSender");
    positive(maxNewOlmSessionsPerSenderPerHour, "maxNewOlmSessionsPerSenderPerHour");
    positive(maxUnwedgesPerHour, "maxUnwedgesPerHour");
    positive(maxDevicesPerUser, "maxDevicesPerUser");
    Objects.requireNonNull(retryBackoffBase, "retryBackoffBase");
    Objects.requireNonNull(retryBackoffMax, "retryBackoffMax");
    if (retryBackoffBase.isNegative()
        || retryBackoffBase.isZero()
        || retryBackoffMax.compareTo(retryBackoffBase) < 0) {
      throw new IllegalArgumentException(
          "expected 0 < retryBackoffBase <= retryBackoffMax, got "
              + retryBackoffBase
              + " and "
              + retryBackoffMax);
    }
  }

  private static void positive(int value, String name) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
  }

  /** A copy with another per-device reply limit. */
  public MachineLimits withMaxKeyRequestRepliesPerDevicePerMinute(int n) {
    return new MachineLimits(
        n,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another per-user reply limit. */
  public MachineLimits withMaxKeyRequestRepliesPerUserPerMinute(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        n,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another overall reply limit. */
  public MachineLimits withMaxKeyRequestRepliesPerMinute(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        n,
        maxWithheldRecords,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another overall withheld-record cap. */
  public MachineLimits withMaxWithheldRecords(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        n,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another per-sender withheld-record cap. */
  public MachineLimits withMaxWithheldPerSender(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        n,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another cap on new inbound Olm sessions per sender per hour. */
  public MachineLimits withMaxNewOlmSessionsPerSenderPerHour(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        maxWithheldPerSender,
        n,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another overall unwedging cap per hour. */
  public MachineLimits withMaxUnwedgesPerHour(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        n,
        maxDevicesPerUser,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with another cap on devices per user. */
  public MachineLimits withMaxDevicesPerUser(int n) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        n,
        retryBackoffBase,
        retryBackoffMax);
  }

  /** A copy with other retry backoff bounds. */
  public MachineLimits withRetryBackoff(Duration base, Duration max) {
    return new MachineLimits(
        maxKeyRequestRepliesPerDevicePerMinute,
        maxKeyRequestRepliesPerUserPerMinute,
        maxKeyRequestRepliesPerMinute,
        maxWithheldRecords,
        maxWithheldPerSender,
        maxNewOlmSessionsPerSenderPerHour,
        maxUnwedgesPerHour,
        maxDevicesPerUser,
        base,
        max);
  }

  /** Whether {@code id} is present and at most {@link #MAX_ID_LENGTH} UTF-8 bytes. */
  static boolean saneId(String id) {
    if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
      return false;
    }
    return id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= MAX_ID_LENGTH;
  }
}
