package io.github.mxe2ee.machine;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock tests move by hand ({@link MachineConfig#withClock}). Not thread-safe. */
final class MutableClock extends Clock {
  private long millis;

  MutableClock(long startMillis) {
    this.millis = startMillis;
  }

  void advanceMillis(long delta) {
    millis += delta;
  }

  void setMillis(long value) {
    millis = value;
  }

  @Override
  public long millis() {
    return millis;
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
