package io.github.mxe2ee.plugin.latekeys;

/**
 * Options of the late-key handling (docs/PLUGIN.md, "Late keys"), in the Vert.x style: mutable,
 * defaults named by {@code DEFAULT_*}, copy constructor, fluent setters that reject values out of
 * range. Not thread-safe; configure before {@link io.github.mxe2ee.plugin.MatrixE2ee#create}.
 *
 * <p>Held events are the encrypted events (never plaintext) waiting for their key; the bounds below
 * keep what a remote party can make the bot store small (ARCHITECTURE.md, "Bounds"). Past a bound
 * the oldest held event (of the room, then overall) is dropped and counted ({@link
 * LateKeyStats#heldDropped()}); it is then never re-emitted.
 */
public class LateKeyOptions {
  /**
   * Default time a missing key is waited for before it is requested from our own devices: a room
   * key is sent to-device just before its first message, so it is usually late by one sync, well
   * under a few seconds; asking our other devices earlier would mostly ask for keys in flight.
   */
  public static final long DEFAULT_HOLD_MS = 3_000;

  /** Default most events held overall: a busy bot's backlog of a few hundred missing keys. */
  public static final int DEFAULT_MAX_HELD_EVENTS = 500;

  /** Default most bytes of held events overall (their JSON as received). */
  public static final long DEFAULT_MAX_HELD_BYTES = 4L * 1024 * 1024;

  /** Default most events held for one room: one room cannot push the others' events out. */
  public static final int DEFAULT_MAX_HELD_EVENTS_PER_ROOM = 100;

  /** Default most bytes of held events for one room. */
  public static final long DEFAULT_MAX_HELD_BYTES_PER_ROOM = 1024L * 1024;

  /** Largest {@code hold_ms} accepted: one minute (a longer wait only delays the key request). */
  public static final long MAX_HOLD_MS = 60_000;

  /** Largest count bound accepted: the index of held events is one store value. */
  public static final int MAX_MAX_HELD_EVENTS = 10_000;

  /** Largest byte bound accepted. */
  public static final long MAX_MAX_HELD_BYTES = 64L * 1024 * 1024;

  private long holdMs = DEFAULT_HOLD_MS;
  private int maxHeldEvents = DEFAULT_MAX_HELD_EVENTS;
  private long maxHeldBytes = DEFAULT_MAX_HELD_BYTES;
  private int maxHeldEventsPerRoom = DEFAULT_MAX_HELD_EVENTS_PER_ROOM;
  private long maxHeldBytesPerRoom = DEFAULT_MAX_HELD_BYTES_PER_ROOM;

  /** Options with every default. */
  public LateKeyOptions() {}

  /** A copy of {@code other}. */
  public LateKeyOptions(LateKeyOptions other) {
    this.holdMs = other.holdMs;
    this.maxHeldEvents = other.maxHeldEvents;
    this.maxHeldBytes = other.maxHeldBytes;
    this.maxHeldEventsPerRoom = other.maxHeldEventsPerRoom;
    this.maxHeldBytesPerRoom = other.maxHeldBytesPerRoom;
  }

  /** How long a missing key is waited for before our own devices are asked for it, in ms. */
  public long getHoldMs() {
    return holdMs;
  }

  /** Sets the hold time, 0 to {@link #MAX_HOLD_MS}. */
  public LateKeyOptions setHoldMs(long holdMs) {
    this.holdMs = check("holdMs", holdMs, 0, MAX_HOLD_MS);
    return this;
  }

  /** Most events held overall. */
  public int getMaxHeldEvents() {
    return maxHeldEvents;
  }

  /** Sets the most events held overall, 0 (hold nothing) to {@link #MAX_MAX_HELD_EVENTS}. */
  public LateKeyOptions setMaxHeldEvents(int maxHeldEvents) {
    this.maxHeldEvents = (int) check("maxHeldEvents", maxHeldEvents, 0, MAX_MAX_HELD_EVENTS);
    return this;
  }

  /** Most bytes of held events overall. */
  public long getMaxHeldBytes() {
    return maxHeldBytes;
  }

  /** Sets the most bytes held overall, 0 to {@link #MAX_MAX_HELD_BYTES}. */
  public LateKeyOptions setMaxHeldBytes(long maxHeldBytes) {
    this.maxHeldBytes = check("maxHeldBytes", maxHeldBytes, 0, MAX_MAX_HELD_BYTES);
    return this;
  }

  /** Most events held for one room. */
  public int getMaxHeldEventsPerRoom() {
    return maxHeldEventsPerRoom;
  }

  /** Sets the most events held for one room, 0 to {@link #MAX_MAX_HELD_EVENTS}. */
  public LateKeyOptions setMaxHeldEventsPerRoom(int maxHeldEventsPerRoom) {
    this.maxHeldEventsPerRoom =
        (int) check("maxHeldEventsPerRoom", maxHeldEventsPerRoom, 0, MAX_MAX_HELD_EVENTS);
    return this;
  }

  /** Most bytes of held events for one room. */
  public long getMaxHeldBytesPerRoom() {
    return maxHeldBytesPerRoom;
  }

  /** Sets the most bytes held for one room, 0 to {@link #MAX_MAX_HELD_BYTES}. */
  public LateKeyOptions setMaxHeldBytesPerRoom(long maxHeldBytesPerRoom) {
    this.maxHeldBytesPerRoom =
        check("maxHeldBytesPerRoom", maxHeldBytesPerRoom, 0, MAX_MAX_HELD_BYTES);
    return this;
  }

  private static long check(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", was " + value);
    }
    return value;
  }
}
