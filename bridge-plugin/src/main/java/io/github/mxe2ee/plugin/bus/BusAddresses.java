package io.github.mxe2ee.plugin.bus;

import java.util.Objects;

/**
 * The event bus addresses of {@link Mxe2eeVerticle} (docs/EVENT_BUS.md), each the configured prefix
 * ({@code bus.address_prefix}, default {@value
 * io.github.mxe2ee.plugin.E2eeOptions#DEFAULT_BUS_ADDRESS_PREFIX}) plus a suffix below. Bodies are
 * {@link io.vertx.core.json.JsonObject}s, so consumers can be written in any JVM language (or reach
 * the bus through a bridge). Immutable and thread-safe.
 *
 * <table>
 *   <caption>Addresses</caption>
 *   <tr><th>suffix</th><th>kind</th><th>body</th><th>reply</th></tr>
 *   <tr><td>{@value #SEND}</td><td>request-reply</td>
 *       <td>{@code {room_id, type, content, txn_id?}}</td><td>{@code {event_id}}</td></tr>
 *   <tr><td>{@value #EVENTS}</td><td>publish</td>
 *       <td>{@code {room_id, event, initial, replayed}} per timeline event</td><td>-</td></tr>
 *   <tr><td>{@value #LATE_EVENTS}</td><td>publish</td>
 *       <td>{@code {room_id, event}} per event decrypted after its key came late</td><td>-</td></tr>
 *   <tr><td>{@value #INVITES}</td><td>publish</td><td>{@code {room_id}} per invite</td>
 *       <td>-</td></tr>
 *   <tr><td>{@value #JOIN}</td><td>request-reply</td><td>{@code {room_id}}</td>
 *       <td>{@code {room_id}}</td></tr>
 *   <tr><td>{@value #DEVICE}</td><td>request-reply</td><td>{@code {}}</td>
 *       <td>{@code {user_id, device_id, ed25519}}</td></tr>
 * </table>
 *
 * Failures are {@link io.vertx.core.eventbus.ReplyException}s with a code of {@link BusFailure}.
 */
public final class BusAddresses {
  /** Suffix of the send address: encrypt (if the room is encrypted) and send one event. */
  public static final String SEND = "send";

  /** Suffix of the address where every timeline event of joined rooms is published. */
  public static final String EVENTS = "events";

  /** Suffix of the address where events decrypted after a late key are published again. */
  public static final String LATE_EVENTS = "events.late";

  /** Suffix of the address where invites of the bot to rooms are published. */
  public static final String INVITES = "invites";

  /** Suffix of the join address: join a room (after an invite). */
  public static final String JOIN = "join";

  /** Suffix of the device address: our user and device ids and the device's keys. */
  public static final String DEVICE = "device";

  private final String prefix;

  /**
   * @param prefix the configured prefix, such as {@code mxe2ee}
   */
  public BusAddresses(String prefix) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
  }

  /** The prefix. */
  public String prefix() {
    return prefix;
  }

  /** {@code <prefix>.send}. */
  public String send() {
    return prefix + "." + SEND;
  }

  /** {@code <prefix>.events}. */
  public String events() {
    return prefix + "." + EVENTS;
  }

  /** {@code <prefix>.events.late}. */
  public String lateEvents() {
    return prefix + "." + LATE_EVENTS;
  }

  /** {@code <prefix>.invites}. */
  public String invites() {
    return prefix + "." + INVITES;
  }

  /** {@code <prefix>.join}. */
  public String join() {
    return prefix + "." + JOIN;
  }

  /** {@code <prefix>.device}. */
  public String device() {
    return prefix + "." + DEVICE;
  }

  @Override
  public String toString() {
    return "BusAddresses[" + prefix + ".*]";
  }
}
