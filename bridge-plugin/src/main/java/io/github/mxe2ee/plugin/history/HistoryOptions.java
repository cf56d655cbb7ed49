package io.github.mxe2ee.plugin.history;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Options of room history sharing (MSC4268, docs/HISTORY_SHARING.md, "Plugin"), in the Vert.x
 * style: mutable, defaults named by {@code DEFAULT_*}, copy constructor, fluent setters that reject
 * values out of range. Not thread-safe; configure before {@link
 * io.github.mxe2ee.plugin.MatrixE2ee#create}.
 *
 * <p>Sharing: when the bot invites a user ({@link io.github.mxe2ee.plugin.MatrixE2ee#invite}) it
 * shares the room's history (a key bundle) unless sharing is off globally ({@link
 * #setShareOnInvite}) or for that room ({@link #setRoomsWithoutSharing}). Receiving: a bundle from
 * the user who invited the bot is imported when the bot joins, or when it arrives within {@link
 * #getAcceptWindowMs()} after the join; the download is bounded by {@link #getMaxBundleBytes()}.
 */
public class HistoryOptions {
  /** Sharing history on invite is on by default, as in Element and matrix-js-sdk. */
  public static final boolean DEFAULT_SHARE_ON_INVITE = true;

  /** Accepting bundles from the inviter is on by default. */
  public static final boolean DEFAULT_ACCEPT_BUNDLES = true;

  /**
   * Default time after a join during which a bundle from the inviter is still imported: 24 hours,
   * the value of Element and matrix-rust-sdk (MSC4268, "Actions as a receiving client").
   */
  public static final long DEFAULT_ACCEPT_WINDOW_MS = 24L * 60 * 60 * 1000;

  /**
   * Default largest encrypted bundle downloaded: 16 MiB. A session is about 400 bytes of JSON, so
   * this holds some 40,000 sessions, far beyond a room's history; it is also the engine's own bound
   * ({@code ReceivedRoomKeyBundle.MAX_BUNDLE_BYTES}).
   */
  public static final long DEFAULT_MAX_BUNDLE_BYTES = 16L * 1024 * 1024;

  /** Largest {@code accept_window_ms} accepted: 7 days. */
  public static final long MAX_ACCEPT_WINDOW_MS = 7L * 24 * 60 * 60 * 1000;

  /** Largest {@code max_bundle_bytes} accepted (the engine refuses larger bundles anyway). */
  public static final long MAX_MAX_BUNDLE_BYTES = 16L * 1024 * 1024;

  /** Most rooms in {@code rooms_without_sharing}. */
  public static final int MAX_ROOMS_WITHOUT_SHARING = 10_000;

  private boolean shareOnInvite = DEFAULT_SHARE_ON_INVITE;
  private boolean acceptBundles = DEFAULT_ACCEPT_BUNDLES;
  private long acceptWindowMs = DEFAULT_ACCEPT_WINDOW_MS;
  private long maxBundleBytes = DEFAULT_MAX_BUNDLE_BYTES;
  private Set<String> roomsWithoutSharing = new LinkedHashSet<>();

  /** Options with every default. */
  public HistoryOptions() {}

  /** A copy of {@code other}. */
  public HistoryOptions(HistoryOptions other) {
    this.shareOnInvite = other.shareOnInvite;
    this.acceptBundles = other.acceptBundles;
    this.acceptWindowMs = other.acceptWindowMs;
    this.maxBundleBytes = other.maxBundleBytes;
    this.roomsWithoutSharing = new LinkedHashSet<>(other.roomsWithoutSharing);
  }

  /** Whether an invite by the bot shares the room's history (globally). */
  public boolean isShareOnInvite() {
    return shareOnInvite;
  }

  /** Turns sharing history on invite on or off for every room. */
  public HistoryOptions setShareOnInvite(boolean shareOnInvite) {
    this.shareOnInvite = shareOnInvite;
    return this;
  }

  /** Whether bundles from the inviter are downloaded and imported. */
  public boolean isAcceptBundles() {
    return acceptBundles;
  }

  /** Turns receiving bundles on or off. */
  public HistoryOptions setAcceptBundles(boolean acceptBundles) {
    this.acceptBundles = acceptBundles;
    return this;
  }

  /** How long after a join a bundle from the inviter is still imported, in ms. */
  public long getAcceptWindowMs() {
    return acceptWindowMs;
  }

  /** Sets the accept window, 0 (only a bundle already there at the join) to 7 days. */
  public HistoryOptions setAcceptWindowMs(long acceptWindowMs) {
    this.acceptWindowMs = check("acceptWindowMs", acceptWindowMs, 0, MAX_ACCEPT_WINDOW_MS);
    return this;
  }

  /** Largest encrypted bundle downloaded, in bytes. */
  public long getMaxBundleBytes() {
    return maxBundleBytes;
  }

  /** Sets the largest bundle downloaded, 1 to {@link #MAX_MAX_BUNDLE_BYTES}. */
  public HistoryOptions setMaxBundleBytes(long maxBundleBytes) {
    this.maxBundleBytes = check("maxBundleBytes", maxBundleBytes, 1, MAX_MAX_BUNDLE_BYTES);
    return this;
  }

  /** The rooms whose history is never shared on invite (a copy). */
  public List<String> getRoomsWithoutSharing() {
    return new ArrayList<>(roomsWithoutSharing);
  }

  /**
   * Sets the rooms whose history is never shared on invite (at most {@link
   * #MAX_ROOMS_WITHOUT_SHARING}; each a room id starting with {@code !}).
   */
  public HistoryOptions setRoomsWithoutSharing(List<String> roomIds) {
    Objects.requireNonNull(roomIds, "roomIds");
    if (roomIds.size() > MAX_ROOMS_WITHOUT_SHARING) {
      throw new IllegalArgumentException(
          "at most " + MAX_ROOMS_WITHOUT_SHARING + " rooms, got " + roomIds.size());
    }
    Set<String> rooms = new LinkedHashSet<>();
    for (String id : roomIds) {
      if (id == null || !id.startsWith("!") || id.length() > 255) {
        throw new IllegalArgumentException("not a room id: " + id);
      }
      rooms.add(id);
    }
    this.roomsWithoutSharing = rooms;
    return this;
  }

  /** Turns sharing on invite off (or back on) for one room. */
  public HistoryOptions setSharingInRoom(String roomId, boolean share) {
    List<String> rooms = getRoomsWithoutSharing();
    rooms.remove(roomId);
    if (!share) {
      rooms.add(roomId);
    }
    return setRoomsWithoutSharing(rooms);
  }

  /** Whether an invite to {@code roomId} shares history: on globally and not off for the room. */
  public boolean sharesIn(String roomId) {
    return shareOnInvite && !roomsWithoutSharing.contains(roomId);
  }

  private static long check(String name, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", was " + value);
    }
    return value;
  }
}
