package io.github.mxe2ee.machine;

import java.time.Duration;
import java.util.Objects;

/**
 * When the bot replaces its outbound Megolm session in a room (spec: {@code
 * end_to_end_encryption.md}, "m.megolm.v1.aes-sha2": {@code rotation_period_ms} and {@code
 * rotation_period_msgs} of {@code m.room.encryption}). A room that names no value gets the
 * defaults; a room's value above a maximum is lowered to it, so whoever can change room state
 * cannot make the bot keep one session (and so expose everything it encrypts to whoever gets that
 * session key) for years. Rotating sooner than a room asks is always allowed by the spec, so an
 * operator may lower the maxima (e.g. one day, 1,000 messages); they cannot be raised above {@link
 * #LIMIT_PERIOD} and {@link #LIMIT_MESSAGES}.
 *
 * @param defaultPeriod rotation period when the room names none (spec default: one week)
 * @param defaultMessages messages per session when the room names none (spec default: 100)
 * @param maxPeriod longest rotation period honoured
 * @param maxMessages most messages per session honoured
 */
public record RotationPolicy(
    Duration defaultPeriod, long defaultMessages, Duration maxPeriod, long maxMessages) {

  /** Highest value {@link #maxPeriod} may take: one week. */
  public static final Duration LIMIT_PERIOD = Duration.ofDays(7);

  /** Highest value {@link #maxMessages} may take: 10,000. */
  public static final long LIMIT_MESSAGES = 10_000;

  /** The spec's defaults (one week, 100 messages) and the highest maxima. */
  public static final RotationPolicy DEFAULT =
      new RotationPolicy(Duration.ofDays(7), 100, LIMIT_PERIOD, LIMIT_MESSAGES);

  /**
   * Checks the values: all positive, maxima at most the limits, defaults at most the maxima.
   *
   * @throws IllegalArgumentException naming the value that is out of range
   */
  public RotationPolicy {
    Objects.requireNonNull(defaultPeriod, "defaultPeriod");
    Objects.requireNonNull(maxPeriod, "maxPeriod");
    if (maxPeriod.isNegative() || maxPeriod.isZero() || maxPeriod.compareTo(LIMIT_PERIOD) > 0) {
      throw new IllegalArgumentException("maxPeriod must be more than 0 and at most one week");
    }
    if (maxMessages < 1 || maxMessages > LIMIT_MESSAGES) {
      throw new IllegalArgumentException("maxMessages must be between 1 and " + LIMIT_MESSAGES);
    }
    if (defaultPeriod.isNegative()
        || defaultPeriod.isZero()
        || defaultPeriod.compareTo(maxPeriod) > 0) {
      throw new IllegalArgumentException("defaultPeriod must be more than 0 and at most maxPeriod");
    }
    if (defaultMessages < 1 || defaultMessages > maxMessages) {
      throw new IllegalArgumentException("defaultMessages must be between 1 and maxMessages");
    }
  }

  /** The rotation period for a room that asks for {@code requestedMs} (0 or less: none). */
  long periodMs(long requestedMs) {
    return requestedMs > 0 ? Math.min(requestedMs, maxPeriod.toMillis()) : defaultPeriod.toMillis();
  }

  /** The messages per session for a room that asks for {@code requested} (0 or less: none). */
  long messages(long requested) {
    return requested > 0 ? Math.min(requested, maxMessages) : defaultMessages;
  }
}
