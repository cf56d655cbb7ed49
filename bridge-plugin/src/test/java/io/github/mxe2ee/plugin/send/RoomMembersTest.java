package io.github.mxe2ee.plugin.send;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who gets a room's key: the member list from one fetch plus the sync's membership events. */
class RoomMembersTest {
  private static final String ROOM = "!r:localhost";

  @Test
  void unknownRoom_hasNoList_andIgnoresPartialSyncMembership() {
    RoomMembers m = new RoomMembers();
    m.onMember(ROOM, "@a:x", "join"); // lazy-loaded sync state: not the whole list
    assertTrue(m.members(ROOM).isEmpty(), "only a fetch makes the list known");
  }

  @Test
  void leaveDuringTheFetch_isAppliedOverTheSnapshot() {
    RoomMembers m = new RoomMembers();
    m.fetching(ROOM);
    m.onMember(ROOM, "@gone:x", "leave"); // arrives while the fetch is under way
    m.onMember(ROOM, "@new:x", "invite");
    RoomMembers.Members got =
        m.fetched(ROOM, Map.of("@a:x", "join", "@gone:x", "join", "@b:x", "ban")).orElseThrow();
    assertEquals(List.of("@a:x", "@new:x"), got.recipients("shared"));
  }

  @Test
  void invitedMembers_getTheKey_unlessHistoryIsJoined() {
    RoomMembers m = new RoomMembers();
    m.fetching(ROOM);
    m.fetched(ROOM, Map.of("@a:x", "join", "@i:x", "invite", "@k:x", "knock"));
    RoomMembers.Members got = m.members(ROOM).orElseThrow();
    assertEquals(List.of("@a:x", "@i:x"), got.recipients("shared"));
    assertEquals(List.of("@a:x", "@i:x"), got.recipients("invited"));
    assertEquals(List.of("@a:x", "@i:x"), got.recipients("world_readable"));
    assertEquals(List.of("@a:x", "@i:x"), got.recipients(null), "absent means shared");
    assertEquals(List.of("@a:x"), got.recipients("joined"));
  }

  @Test
  void syncMembership_updatesAKnownList() {
    RoomMembers m = new RoomMembers();
    m.fetching(ROOM);
    m.fetched(ROOM, Map.of("@a:x", "join", "@b:x", "join"));
    m.onMember(ROOM, "@b:x", "ban");
    m.onMember(ROOM, "@c:x", "join");
    assertEquals(List.of("@a:x", "@c:x"), m.members(ROOM).orElseThrow().recipients("shared"));
    m.forget(ROOM);
    assertTrue(m.members(ROOM).isEmpty(), "forgotten: fetched again on the next send");
  }

  @Test
  void roomsAreBounded_leastRecentlyUsedForgotten() {
    RoomMembers m = new RoomMembers();
    for (int i = 0; i <= RoomMembers.MAX_ROOMS; i++) {
      m.fetching("!" + i + ":x");
      m.fetched("!" + i + ":x", Map.of("@a:x", "join"));
    }
    assertTrue(m.members("!0:x").isEmpty(), "the eldest room was dropped");
    assertTrue(m.members("!" + RoomMembers.MAX_ROOMS + ":x").isPresent());
  }

  @Test
  void bufferOverflowDuringAFetch_isNotTrusted() {
    RoomMembers m = new RoomMembers();
    m.fetching(ROOM);
    for (int i = 0; i <= RoomMembers.MAX_BUFFERED_EVENTS; i++) {
      m.onMember(ROOM, "@u" + i + ":x", "join");
    }
    assertTrue(m.fetched(ROOM, Map.of()).isEmpty());
    assertTrue(m.members(ROOM).isEmpty(), "fetched again next time");
  }
}
