package io.github.mxe2ee.plugin.send;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The members of the rooms the bot sends to: who gets the room key (Client-Server API, "Room
 * membership"; E2EE module, "Sharing keys between devices"). A room's list is known only after one
 * full fetch ({@code GET /rooms/{roomId}/members}), because a sync with lazy-loaded members (the
 * bot loop's default filter) shows only the members its timeline needs; after that, every {@code
 * m.room.member} event of the room's sync state and timeline updates it. Events that arrive while
 * the fetch is under way are applied after its answer, in order: a membership event states the
 * member's whole membership, so applying it again over a snapshot that already holds it changes
 * nothing, and nothing newer than the snapshot is lost.
 *
 * <p>Bounds: at most {@link #MAX_ROOMS} rooms are kept (the least recently used is forgotten and
 * fetched again on its next send), and at most {@link #MAX_BUFFERED_EVENTS} events are buffered
 * during one fetch (past it the fetch's answer is not trusted and the next send fetches again).
 *
 * <p>Thread-safe (synchronized). Nothing is persisted: after a restart each room is fetched once.
 */
public final class RoomMembers {
  /**
   * Rooms whose member lists are kept: 4,096. A list costs about 100 bytes per member; a bot in
   * more rooms refetches the least recently used ones, which costs one request per send to them.
   */
  public static final int MAX_ROOMS = 4096;

  /** Membership events buffered while one room's fetch is under way: 10,000. */
  public static final int MAX_BUFFERED_EVENTS = 10_000;

  /** The recipients of a room's key, as of one moment. */
  public record Members(Set<String> joined, Set<String> invited) {
    /** Copies the sets. */
    public Members {
      joined = Set.copyOf(joined);
      invited = Set.copyOf(invited);
    }

    /**
     * The users to share the room key with: the joined members, and the invited ones unless the
     * room's history visibility is {@code joined} (spec, "Room History Visibility": under {@code
     * invited}, {@code shared} and {@code world_readable} an invited user may read what is sent
     * from the invite on; an absent or unknown value means {@code shared}).
     *
     * @param historyVisibility the room's {@code history_visibility}, or null if unknown
     */
    public List<String> recipients(String historyVisibility) {
      Set<String> all = new TreeSet<>(joined);
      if (!"joined".equals(historyVisibility)) {
        all.addAll(invited);
      }
      return new ArrayList<>(all);
    }
  }

  private static final class Room {
    final Map<String, String> membership = new LinkedHashMap<>();
    final List<String[]> buffered = new ArrayList<>();
    boolean known;
    boolean overflow;
  }

  private final Map<String, Room> rooms = new LinkedHashMap<>(16, 0.75f, true);

  /** The room's members if its list is known. */
  public synchronized Optional<Members> members(String roomId) {
    Room r = rooms.get(roomId);
    if (r == null || !r.known) {
      return Optional.empty();
    }
    Set<String> joined = new TreeSet<>();
    Set<String> invited = new TreeSet<>();
    r.membership.forEach(
        (user, m) -> {
          if ("join".equals(m)) {
            joined.add(user);
          } else if ("invite".equals(m)) {
            invited.add(user);
          }
        });
    return Optional.of(new Members(joined, invited));
  }

  /**
   * An {@code m.room.member} event of a room (from sync state or timeline), in event order. Ignored
   * for a room whose list is neither known nor being fetched.
   */
  public synchronized void onMember(String roomId, String userId, String membership) {
    Room r = rooms.get(roomId);
    if (r == null) {
      return;
    }
    if (r.known) {
      apply(r, userId, membership);
    } else if (r.buffered.size() < MAX_BUFFERED_EVENTS) {
      r.buffered.add(new String[] {userId, membership});
    } else {
      r.overflow = true;
    }
  }

  /** Starts a fetch of the room's list: events from now on are buffered until {@link #fetched}. */
  public synchronized void fetching(String roomId) {
    Room r = new Room();
    rooms.put(roomId, r);
    while (rooms.size() > MAX_ROOMS) {
      String eldest = rooms.keySet().iterator().next();
      rooms.remove(eldest);
    }
  }

  /**
   * The fetch's answer: user id to membership ({@code join}, {@code invite}, {@code leave}, {@code
   * ban}, {@code knock}); the buffered events are applied over it.
   *
   * @return the members, or empty if the buffer overflowed or the fetch was superseded (then the
   *     caller fetches again on its next send)
   */
  public synchronized Optional<Members> fetched(String roomId, Map<String, String> snapshot) {
    Room r = rooms.get(roomId);
    if (r == null || r.known) {
      return Optional.empty();
    }
    if (r.overflow) {
      rooms.remove(roomId);
      return Optional.empty();
    }
    r.membership.putAll(snapshot);
    for (String[] e : r.buffered) {
      apply(r, e[0], e[1]);
    }
    r.buffered.clear();
    r.known = true;
    return members(roomId);
  }

  /** Forgets the room (our own user left it, or a fetch failed); the next send fetches again. */
  public synchronized void forget(String roomId) {
    rooms.remove(roomId);
  }

  private static void apply(Room r, String userId, String membership) {
    if ("join".equals(membership) || "invite".equals(membership)) {
      r.membership.put(userId, membership);
    } else {
      r.membership.remove(userId);
    }
  }
}
