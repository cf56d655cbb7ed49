package io.github.mxe2ee.store;

import static io.github.mxe2ee.store.Fixtures.ALICE;
import static io.github.mxe2ee.store.Fixtures.BOB;
import static io.github.mxe2ee.store.Fixtures.ROOM;
import static io.github.mxe2ee.store.Fixtures.ROOM2;
import static io.github.mxe2ee.store.Fixtures.device;
import static io.github.mxe2ee.store.Fixtures.inbound;
import static io.github.mxe2ee.store.Fixtures.olm;
import static io.github.mxe2ee.store.Fixtures.outbound;
import static io.github.mxe2ee.store.Fixtures.pickle;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.device.LocalTrust;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link CryptoStore} contract, run against every backend by subclassing. {@link #open} opens
 * (or reopens) the store of an account in the backend's shared database for the current test.
 */
public abstract class CryptoStoreContractTest {
  protected CryptoStore store;

  /** Opens the store of {@code account} in this test's database; reopening must see saved data. */
  protected abstract CryptoStore open(AccountId account);

  @BeforeEach
  void openAlice() {
    store = open(ALICE);
  }

  @AfterEach
  void closeAlice() {
    store.close();
  }

  private CryptoStore reopen() {
    store.close();
    store = open(ALICE);
    return store;
  }

  @Test
  void account_emptyThenSavedThenReplaced() {
    assertEquals(Optional.empty(), store.account());
    store.save(new Changes().putAccount(new AccountRecord(pickle("a1"), false)));
    assertEquals(Optional.of(new AccountRecord(pickle("a1"), false)), store.account());
    store.save(new Changes().putAccount(new AccountRecord(pickle("a2"), true)));
    assertEquals(Optional.of(new AccountRecord(pickle("a2"), true)), reopen().account());
  }

  @Test
  void olmSessions_bySenderKey_mostRecentlyUsedFirst() {
    store.save(
        new Changes()
            .putOlmSession(olm("K1", "s1", 10))
            .putOlmSession(olm("K1", "s2", 30))
            .putOlmSession(olm("K1", "s3", 20))
            .putOlmSession(olm("K2", "s4", 99)));
    assertEquals(
        List.of(olm("K1", "s2", 30), olm("K1", "s3", 20), olm("K1", "s1", 10)),
        reopen().olmSessions("K1"));
    assertEquals(List.of(olm("K2", "s4", 99)), store.olmSessions("K2"));
    assertEquals(List.of(), store.olmSessions("K3"));

    store.save(new Changes().putOlmSession(olm("K1", "s1", 40)).deleteOlmSession("K1", "s3"));
    assertEquals(List.of(olm("K1", "s1", 40), olm("K1", "s2", 30)), store.olmSessions("K1"));
  }

  @Test
  void inboundGroupSession_roundTripsEveryField() {
    InboundGroupSessionRecord r =
        new InboundGroupSessionRecord(
            ROOM, "S", "curve", "ed", 42, true, false, true, "@s:example.org", pickle("x"));
    store.save(new Changes().putInboundGroupSession(r));
    assertEquals(Optional.of(r), reopen().inboundGroupSession(ROOM, "curve", "S"));
    assertEquals(Optional.empty(), store.inboundGroupSession(ROOM2, "curve", "S"));
    assertEquals(Optional.empty(), store.inboundGroupSession(ROOM, "curve", "T"));
    assertEquals(Optional.empty(), store.inboundGroupSession(ROOM, "other", "S"));
    assertEquals(1, store.inboundGroupSessionCount());

    InboundGroupSessionRecord better =
        new InboundGroupSessionRecord(ROOM, "S", "curve", "ed", 0, true, false, pickle("y"));
    assertFalse(better.authenticated(), "the short constructor makes an unauthenticated record");
    store.save(new Changes().putInboundGroupSession(better));
    assertEquals(Optional.of(better), store.inboundGroupSession(ROOM, "curve", "S"));
    store.save(new Changes().deleteInboundGroupSession(ROOM, "curve", "S"));
    assertEquals(Optional.empty(), store.inboundGroupSession(ROOM, "curve", "S"));
    assertEquals(0, store.inboundGroupSessionCount());
  }

  @Test
  void inboundGroupSession_isKeyedByRoomSenderKeyAndSessionId() {
    InboundGroupSessionRecord a =
        new InboundGroupSessionRecord(
            ROOM, "S", "curveA", "edA", 0, false, false, true, "@a:example.org", pickle("a"));
    InboundGroupSessionRecord b =
        new InboundGroupSessionRecord(ROOM, "S", "curveB", "edB", 5, false, true, pickle("b"));
    InboundGroupSessionRecord elsewhere =
        new InboundGroupSessionRecord(ROOM2, "S", "curveA", "edA", 1, false, false, pickle("c"));
    store.save(
        new Changes()
            .putInboundGroupSession(b)
            .putInboundGroupSession(a)
            .putInboundGroupSession(elsewhere));
    store = reopen();
    assertEquals(3, store.inboundGroupSessionCount());
    assertEquals(List.of(a, b), store.inboundGroupSessions(ROOM, "S"), "ordered by sender key");
    assertEquals(List.of(elsewhere), store.inboundGroupSessions(ROOM2, "S"));
    assertEquals(List.of(), store.inboundGroupSessions(ROOM, "T"));
    store.save(
        new Changes()
            .markInboundGroupSessionBackedUp(ROOM, "curveA", "S")
            .deleteInboundGroupSession(ROOM, "curveB", "S"));
    assertEquals(List.of(a.withBackedUp(true)), store.inboundGroupSessions(ROOM, "S"));
    assertEquals(Optional.of(elsewhere), store.inboundGroupSession(ROOM2, "curveA", "S"));
    assertFalse(store.inboundGroupSession(ROOM2, "curveA", "S").orElseThrow().backedUp());
  }

  @Test
  void inboundGroupSessions_pageThroughAllWithoutGapsOrRepeats() {
    Changes changes = new Changes();
    java.util.Set<String> expected = new java.util.HashSet<>();
    for (String room : List.of(ROOM, ROOM2, "!c:example.org")) {
      for (int i = 0; i < 5; i++) {
        changes.putInboundGroupSession(inbound(room, "S" + i, false, false));
        expected.add(room + "|S" + i);
      }
    }
    store.save(changes);
    List<String> seen = new java.util.ArrayList<>();
    String room = null;
    String sender = null;
    String session = null;
    while (true) {
      List<InboundGroupSessionRecord> page =
          store.inboundGroupSessionsAfter(room, sender, session, 4);
      assertTrue(page.size() <= 4);
      if (page.isEmpty()) {
        break;
      }
      for (InboundGroupSessionRecord r : page) {
        seen.add(r.roomId() + "|" + r.sessionId());
      }
      room = page.get(page.size() - 1).roomId();
      sender = page.get(page.size() - 1).senderKey();
      session = page.get(page.size() - 1).sessionId();
    }
    assertEquals(15, seen.size(), "no repeats: " + seen);
    assertEquals(expected, new java.util.HashSet<>(seen));
    assertEquals(
        seen.subList(0, 4),
        store.inboundGroupSessionsAfter(null, null, null, 4).stream()
            .map(r -> r.roomId() + "|" + r.sessionId())
            .toList(),
        "the same order every time");
    assertThrows(
        IllegalArgumentException.class, () -> store.inboundGroupSessionsAfter(ROOM, null, "S", 4));
  }

  @Test
  void inboundGroupSession_backupFlags() {
    store.save(
        new Changes()
            .putInboundGroupSession(inbound(ROOM, "a", false, false))
            .putInboundGroupSession(inbound(ROOM, "b", false, false))
            .putInboundGroupSession(inbound(ROOM2, "c", false, true)));
    assertEquals(2, store.inboundGroupSessionsToBackUp(10).size());
    assertEquals(1, store.inboundGroupSessionsToBackUp(1).size());

    store.save(
        new Changes()
            .markInboundGroupSessionBackedUp(ROOM, "senderKey-a", "a")
            .markInboundGroupSessionBackedUp(ROOM, "senderKey-missing", "missing"));
    assertEquals(List.of(inbound(ROOM, "b", false, false)), store.inboundGroupSessionsToBackUp(10));
    assertTrue(store.inboundGroupSession(ROOM, "senderKey-a", "a").orElseThrow().backedUp());

    store.save(new Changes().resetInboundGroupSessionBackup());
    assertEquals(3, reopen().inboundGroupSessionsToBackUp(10).size());
    assertEquals(3, store.inboundGroupSessionCount());
  }

  @Test
  void inboundGroupSession_sharedHistoryPerRoom() {
    store.save(
        new Changes()
            .putInboundGroupSession(inbound(ROOM, "b", true, false))
            .putInboundGroupSession(inbound(ROOM, "a", true, false))
            .putInboundGroupSession(inbound(ROOM, "c", false, false))
            .putInboundGroupSession(inbound(ROOM2, "d", true, false)));
    assertEquals(
        List.of(inbound(ROOM, "a", true, false), inbound(ROOM, "b", true, false)),
        store.sharedHistoryInboundGroupSessions(ROOM));
    assertEquals(List.of(), store.sharedHistoryInboundGroupSessions("!none:example.org"));
  }

  @Test
  void outboundGroupSession_indexAndSharedWith() {
    UserDevice d1 = new UserDevice("@x:example.org", "D1");
    UserDevice d2 = new UserDevice("@y:example.org", "D2");
    store.save(
        new Changes()
            .putOutboundGroupSession(outbound(ROOM, "O1", 0))
            .putOutboundSharedWith(ROOM, "O1", d1, 0));
    store.save(
        new Changes()
            .putOutboundGroupSession(outbound(ROOM, "O1", 5))
            .putOutboundSharedWith(ROOM, "O1", d2, 4));
    assertEquals(Optional.of(outbound(ROOM, "O1", 5)), reopen().outboundGroupSession(ROOM));
    assertEquals(Map.of(d1, 0L, d2, 4L), store.outboundSharedWith(ROOM));
    assertEquals(Optional.empty(), store.outboundGroupSession(ROOM2));
    assertEquals(Map.of(), store.outboundSharedWith(ROOM2));
  }

  @Test
  void outboundGroupSession_rotationDropsOldSharedWith() {
    UserDevice d1 = new UserDevice("@x:example.org", "D1");
    UserDevice d2 = new UserDevice("@y:example.org", "D2");
    store.save(
        new Changes()
            .putOutboundGroupSession(outbound(ROOM, "O1", 3))
            .putOutboundSharedWith(ROOM, "O1", d1, 0)
            .putOutboundGroupSession(outbound(ROOM2, "P1", 0))
            .putOutboundSharedWith(ROOM2, "P1", d1, 0));
    store.save(
        new Changes()
            .putOutboundGroupSession(outbound(ROOM, "O2", 0))
            .putOutboundSharedWith(ROOM, "O2", d2, 0));
    assertEquals(Map.of(d2, 0L), store.outboundSharedWith(ROOM));
    assertEquals("O2", store.outboundGroupSession(ROOM).orElseThrow().sessionId());

    store.save(new Changes().deleteOutboundGroupSession(ROOM));
    assertEquals(Optional.empty(), store.outboundGroupSession(ROOM));
    assertEquals(Map.of(), store.outboundSharedWith(ROOM));
    assertEquals(Map.of(d1, 0L), store.outboundSharedWith(ROOM2));
  }

  @Test
  void outboundAdvance_isACompareAndSetOnTheIndex() {
    store.save(new Changes().putOutboundGroupSession(outbound(ROOM, "O1", 4)));
    // The writer that loaded index 4 encrypted at 4 and stores 5.
    store.save(new Changes().advanceOutboundGroupSession(outbound(ROOM, "O1", 5), 4));
    assertEquals(Optional.of(outbound(ROOM, "O1", 5)), reopen().outboundGroupSession(ROOM));
    // A second writer that also loaded index 4 must not store its use of index 4.
    assertAdvanceRefused(new Changes().advanceOutboundGroupSession(outbound(ROOM, "O1", 5), 4));
    // Nor may a writer whose session was replaced by a rotation, or deleted.
    store.save(new Changes().putOutboundGroupSession(outbound(ROOM, "O2", 5)));
    assertAdvanceRefused(new Changes().advanceOutboundGroupSession(outbound(ROOM, "O1", 6), 5));
    assertAdvanceRefused(new Changes().advanceOutboundGroupSession(outbound(ROOM2, "P1", 1), 0));
    assertEquals(Optional.of(outbound(ROOM, "O2", 5)), reopen().outboundGroupSession(ROOM));
    assertEquals(Optional.empty(), store.outboundGroupSession(ROOM2));
    // A session created earlier in the same save can be advanced in it.
    store.save(
        new Changes()
            .putOutboundGroupSession(outbound(ROOM2, "P2", 0))
            .advanceOutboundGroupSession(outbound(ROOM2, "P2", 1), 0));
    assertEquals(Optional.of(outbound(ROOM2, "P2", 1)), store.outboundGroupSession(ROOM2));
  }

  /** The advance fails with CONSTRAINT, and the sync token saved along with it is not applied. */
  private void assertAdvanceRefused(Changes advance) {
    String token = store.syncToken().orElse(null);
    StoreException e =
        assertThrows(StoreException.class, () -> store.save(advance.putSyncToken("lost")));
    assertEquals(StoreException.Reason.CONSTRAINT, e.reason());
    assertEquals(Optional.ofNullable(token), store.syncToken());
  }

  @Test
  void outboundAdvance_mustRaiseTheIndex() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new Changes().advanceOutboundGroupSession(outbound(ROOM, "O1", 4), 4));
  }

  @Test
  void outboundSharedWith_forRotatedOrMissingSession_isIgnored() {
    UserDevice d = new UserDevice("@x:example.org", "D");
    store.save(
        new Changes()
            .putOutboundGroupSession(outbound(ROOM, "O2", 0))
            // Late acknowledgements: an old session of ROOM, and a room without a session.
            .putOutboundSharedWith(ROOM, "O1", d, 0)
            .putOutboundSharedWith(ROOM2, "P1", d, 0)
            .putSyncToken("saved"));
    assertEquals(Optional.of("saved"), store.syncToken());
    assertEquals(Map.of(), store.outboundSharedWith(ROOM));
    assertEquals(Map.of(), store.outboundSharedWith(ROOM2));
    store.save(new Changes().putOutboundSharedWith(ROOM, "O2", d, 0));
    assertEquals(Map.of(d, 0L), reopen().outboundSharedWith(ROOM));
  }

  @Test
  void save_failingMidway_appliesNothing() {
    store.save(
        new Changes()
            .putAccount(new AccountRecord(pickle("before"), false))
            .putSyncToken("s1")
            .putValue("k", new byte[] {1})
            .putOutgoingKeyRequest(new OutgoingKeyRequest("r1", ROOM, "s", KeyRequestState.SENT)));
    Changes failing =
        new Changes()
            .putAccount(new AccountRecord(pickle("after"), true))
            .putOlmSession(olm("K", "s", 1))
            .putInboundGroupSession(inbound(ROOM, "i", true, false))
            .putOutboundGroupSession(outbound(ROOM, "O", 7))
            .putDevice(device("@u:example.org", "D", LocalTrust.VERIFIED, false))
            .putTrackedUser(new TrackedUser("@u:example.org", true))
            .putSyncToken("s2")
            .putValue("k", new byte[] {2})
            .deleteValue("nothing")
            .putOutboundSharedWith(ROOM, "O", new UserDevice("@u:example.org", "D"), 0)
            // Constraint violation midway: a second request for the session of request "r1".
            .putOutgoingKeyRequest(new OutgoingKeyRequest("r2", ROOM, "s", KeyRequestState.UNSENT))
            .putWithheld(new WithheldRecord(ROOM, "w", "K", "m.unverified", null));
    StoreException e = assertThrows(StoreException.class, () -> store.save(failing));
    assertEquals(StoreException.Reason.CONSTRAINT, e.reason());

    assertUnchangedAfterFailedSave(store);
    assertUnchangedAfterFailedSave(reopen());
    // The store still works after the failed save.
    store.save(new Changes().putSyncToken("s3"));
    assertEquals(Optional.of("s3"), store.syncToken());
  }

  private static void assertUnchangedAfterFailedSave(CryptoStore s) {
    {
      assertEquals(Optional.of(new AccountRecord(pickle("before"), false)), s.account());
      assertEquals(Optional.of("s1"), s.syncToken());
      assertArrayEquals(new byte[] {1}, s.value("k").orElseThrow());
      assertEquals(List.of(), s.olmSessions("K"));
      assertEquals(0, s.inboundGroupSessionCount());
      assertEquals(Optional.empty(), s.outboundGroupSession(ROOM));
      assertEquals(List.of(), s.devices("@u:example.org"));
      assertEquals(List.of(), s.trackedUsers());
      assertEquals(List.of(), s.withheld(ROOM, "w"));
      assertEquals(Map.of(), s.outboundSharedWith(ROOM));
      assertEquals(Optional.empty(), s.outgoingKeyRequest("r2"));
    }
  }

  @Test
  void save_appliesInOrder_laterChangeWins() {
    store.save(
        new Changes()
            .putValue("k", new byte[] {1})
            .deleteValue("k")
            .putInboundGroupSession(inbound(ROOM, "a", false, false))
            .deleteInboundGroupSession(ROOM, "senderKey-a", "a")
            .putInboundGroupSession(inbound(ROOM, "a", true, false))
            .putSyncToken("one")
            .putSyncToken("two"));
    assertEquals(Optional.empty(), store.value("k"));
    assertEquals(
        Optional.of(inbound(ROOM, "a", true, false)),
        store.inboundGroupSession(ROOM, "senderKey-a", "a"));
    assertEquals(Optional.of("two"), store.syncToken());
  }

  @Test
  void unsavedChanges_areInvisible() {
    Changes pending = new Changes().putSyncToken("t").putOlmSession(olm("K", "s", 1));
    assertEquals(Optional.empty(), store.syncToken());
    assertEquals(List.of(), store.olmSessions("K"));
    store.save(new Changes());
    assertEquals(Optional.empty(), store.syncToken());
    store.save(pending);
    assertEquals(Optional.of("t"), store.syncToken());
  }

  @Test
  void devices_andCrossSigningIdentities() {
    String u = "@u:example.org";
    store.save(
        new Changes()
            .putDevice(device(u, "B", LocalTrust.BLACKLISTED, false))
            .putDevice(device(u, "A", LocalTrust.VERIFIED, false))
            .putDevice(device(u, "C", LocalTrust.UNSET, true))
            .putDevice(device("@v:example.org", "A", LocalTrust.UNSET, false))
            .putCrossSigningIdentity(
                new CrossSigningIdentityRecord(u, "{\"master_key\":{}}", LocalTrust.VERIFIED)));
    reopen();
    assertEquals(
        List.of(
            device(u, "A", LocalTrust.VERIFIED, false),
            device(u, "B", LocalTrust.BLACKLISTED, false),
            device(u, "C", LocalTrust.UNSET, true)),
        store.devices(u));
    assertEquals(
        Optional.of(device("@v:example.org", "A", LocalTrust.UNSET, false)),
        store.device("@v:example.org", "A"));
    assertEquals(Optional.empty(), store.device(u, "Z"));
    assertEquals(
        Optional.of(new CrossSigningIdentityRecord(u, "{\"master_key\":{}}", LocalTrust.VERIFIED)),
        store.crossSigningIdentity(u));
    assertEquals(Optional.empty(), store.crossSigningIdentity("@v:example.org"));

    store.save(new Changes().deleteDevice(u, "B").deleteCrossSigningIdentity(u));
    assertEquals(2, store.devices(u).size());
    assertEquals(Optional.empty(), store.crossSigningIdentity(u));
  }

  @Test
  void trackedUsers_andOutdatedFlag() {
    store.save(
        new Changes()
            .putTrackedUser(new TrackedUser("@c:example.org", true))
            .putTrackedUser(new TrackedUser("@a:example.org", false))
            .putTrackedUser(new TrackedUser("@b:example.org", true)));
    assertEquals(List.of("@b:example.org", "@c:example.org"), reopen().outdatedUsers());
    assertEquals(3, store.trackedUsers().size());
    assertEquals("@a:example.org", store.trackedUsers().get(0).userId());
    store.save(
        new Changes()
            .putTrackedUser(new TrackedUser("@b:example.org", false))
            .deleteTrackedUser("@c:example.org"));
    assertEquals(List.of(), store.outdatedUsers());
    assertEquals(
        Optional.of(new TrackedUser("@b:example.org", false)), store.trackedUser("@b:example.org"));
    assertEquals(Optional.empty(), store.trackedUser("@c:example.org"));
  }

  @Test
  void outgoingKeyRequests_byIdRoomSessionAndState() {
    OutgoingKeyRequest r1 = new OutgoingKeyRequest("r1", ROOM, "s1", KeyRequestState.UNSENT);
    OutgoingKeyRequest r2 = new OutgoingKeyRequest("r2", ROOM, "s2", KeyRequestState.SENT);
    OutgoingKeyRequest r3 = new OutgoingKeyRequest("r3", ROOM2, "s1", KeyRequestState.UNSENT);
    store.save(
        new Changes()
            .putOutgoingKeyRequest(r1)
            .putOutgoingKeyRequest(r2)
            .putOutgoingKeyRequest(r3));
    reopen();
    assertEquals(Optional.of(r2), store.outgoingKeyRequest("r2"));
    assertEquals(Optional.of(r3), store.outgoingKeyRequestFor(ROOM2, "s1"));
    assertEquals(List.of(r1, r3), store.outgoingKeyRequests(KeyRequestState.UNSENT));
    assertEquals(List.of(), store.outgoingKeyRequests(KeyRequestState.CANCELLATION_PENDING));

    OutgoingKeyRequest r1Sent = new OutgoingKeyRequest("r1", ROOM, "s1", KeyRequestState.SENT);
    store.save(new Changes().putOutgoingKeyRequest(r1Sent).deleteOutgoingKeyRequest("r3"));
    assertEquals(List.of(r1Sent, r2), store.outgoingKeyRequests(KeyRequestState.SENT));
    assertEquals(Optional.empty(), store.outgoingKeyRequest("r3"));
  }

  @Test
  void outgoingKeyRequests_secondRequestForSameSession_isConstraintError() {
    store.save(
        new Changes()
            .putOutgoingKeyRequest(new OutgoingKeyRequest("r1", ROOM, "s", KeyRequestState.SENT)));
    StoreException e =
        assertThrows(
            StoreException.class,
            () ->
                store.save(
                    new Changes()
                        .putOutgoingKeyRequest(
                            new OutgoingKeyRequest("r2", ROOM, "s", KeyRequestState.UNSENT))));
    assertEquals(StoreException.Reason.CONSTRAINT, e.reason());
    assertEquals("r1", store.outgoingKeyRequestFor(ROOM, "s").orElseThrow().requestId());
    assertEquals(Optional.empty(), store.outgoingKeyRequest("r2"));
  }

  @Test
  void withheld_isKeyedByRoomSenderKeyAndSessionId() {
    WithheldRecord fromA = new WithheldRecord(ROOM, "s", "KA", "m.unverified", null);
    WithheldRecord fromB = new WithheldRecord(ROOM, "s", "KB", "m.blacklisted", null);
    store.save(new Changes().putWithheld(fromB).putWithheld(fromA));
    assertEquals(List.of(fromA, fromB), reopen().withheld(ROOM, "s"));
    store.save(new Changes().deleteWithheld(ROOM, "KA", "s"));
    assertEquals(List.of(fromB), store.withheld(ROOM, "s"));
  }

  @Test
  void withheld_syncToken_bundles_values() {
    WithheldRecord w = new WithheldRecord(ROOM, "s", "K", "m.unverified", null);
    WithheldRecord w2 = new WithheldRecord(ROOM, "t", "K", "m.blacklisted", "go away");
    PendingRoomKeyBundle b1 = new PendingRoomKeyBundle(ROOM2, "@i:example.org", "{\"u\":1}", 7);
    PendingRoomKeyBundle b2 = new PendingRoomKeyBundle(ROOM, "@i:example.org", "{\"u\":2}", 8);
    store.save(
        new Changes()
            .putWithheld(w)
            .putWithheld(w2)
            .putSyncToken("batch_1")
            .putPendingRoomKeyBundle(b1)
            .putPendingRoomKeyBundle(b2)
            .putValue("backup_version", new byte[] {0, 1, 2, (byte) 0xff}));
    reopen();
    assertEquals(List.of(w), store.withheld(ROOM, "s"));
    assertEquals(List.of(w2), store.withheld(ROOM, "t"));
    assertEquals(Optional.of("batch_1"), store.syncToken());
    assertEquals(List.of(b1, b2), store.pendingRoomKeyBundles());
    assertEquals(Optional.of(b1), store.pendingRoomKeyBundle(ROOM2, "@i:example.org"));
    byte[] v = store.value("backup_version").orElseThrow();
    assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xff}, v);
    v[0] = 9;
    assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xff}, store.value("backup_version").get());

    store.save(
        new Changes()
            .deleteWithheld(ROOM, "K", "s")
            .deletePendingRoomKeyBundle(ROOM2, "@i:example.org")
            .deleteValue("backup_version"));
    assertEquals(List.of(), store.withheld(ROOM, "s"));
    assertEquals(List.of(b2), store.pendingRoomKeyBundles());
    assertEquals(Optional.empty(), store.value("backup_version"));
  }

  /**
   * Issue 14: pending bundles are kept per (room, sender): an announcement from another user for
   * the same room never replaces the inviter's, a newer one from the same user does.
   */
  @Test
  void pendingBundles_arePerRoomAndSender() {
    PendingRoomKeyBundle inviter = new PendingRoomKeyBundle(ROOM, "@a:example.org", "{\"u\":1}", 7);
    PendingRoomKeyBundle stranger =
        new PendingRoomKeyBundle(ROOM, "@z:example.org", "{\"u\":2}", 8);
    PendingRoomKeyBundle newer = new PendingRoomKeyBundle(ROOM, "@a:example.org", "{\"u\":3}", 9);
    store.save(new Changes().putPendingRoomKeyBundle(inviter).putPendingRoomKeyBundle(stranger));
    reopen();
    assertEquals(List.of(inviter, stranger), store.pendingRoomKeyBundles());
    assertEquals(Optional.of(inviter), store.pendingRoomKeyBundle(ROOM, "@a:example.org"));
    assertEquals(Optional.empty(), store.pendingRoomKeyBundle(ROOM, "@b:example.org"));
    store.save(new Changes().putPendingRoomKeyBundle(newer));
    assertEquals(Optional.of(newer), store.pendingRoomKeyBundle(ROOM, "@a:example.org"));
    store.save(new Changes().deletePendingRoomKeyBundle(ROOM, "@z:example.org"));
    assertEquals(List.of(newer), store.pendingRoomKeyBundles());
  }

  @Test
  void accounts_areScoped() {
    store.save(
        new Changes()
            .putAccount(new AccountRecord(pickle("alice"), true))
            .putInboundGroupSession(inbound(ROOM, "s", true, false))
            .putOutboundGroupSession(outbound(ROOM, "O", 1))
            .putOlmSession(olm("K", "s", 1))
            .putSyncToken("alice-token")
            .putValue("k", new byte[] {1})
            .putTrackedUser(new TrackedUser("@u:example.org", true)));
    try (CryptoStore bob = open(BOB)) {
      assertEquals(BOB, bob.accountId());
      assertEquals(Optional.empty(), bob.account());
      assertEquals(Optional.empty(), bob.inboundGroupSession(ROOM, "senderKey-s", "s"));
      assertEquals(0, bob.inboundGroupSessionCount());
      assertEquals(Optional.empty(), bob.outboundGroupSession(ROOM));
      assertEquals(List.of(), bob.olmSessions("K"));
      assertEquals(Optional.empty(), bob.syncToken());
      assertEquals(Optional.empty(), bob.value("k"));
      assertEquals(List.of(), bob.trackedUsers());

      bob.save(
          new Changes()
              .putInboundGroupSession(inbound(ROOM, "s", false, true))
              .putOutboundGroupSession(outbound(ROOM, "O", 9))
              .putOutboundSharedWith(ROOM, "O", new UserDevice("@u:example.org", "D"), 9)
              .putSyncToken("bob-token"));
      assertEquals(
          Optional.of(inbound(ROOM, "s", false, true)),
          bob.inboundGroupSession(ROOM, "senderKey-s", "s"));
    }
    assertEquals(
        Optional.of(inbound(ROOM, "s", true, false)),
        store.inboundGroupSession(ROOM, "senderKey-s", "s"));
    assertEquals(1, store.outboundGroupSession(ROOM).orElseThrow().messageIndex());
    assertEquals(Map.of(), store.outboundSharedWith(ROOM));
    assertEquals(Optional.of("alice-token"), store.syncToken());
  }

  @Test
  void closedStore_refusesUse() {
    store.close();
    store.close();
    StoreException e = assertThrows(StoreException.class, () -> store.syncToken());
    assertEquals(StoreException.Reason.CLOSED, e.reason());
    e = assertThrows(StoreException.class, () -> store.save(new Changes().putSyncToken("x")));
    assertEquals(StoreException.Reason.CLOSED, e.reason());
    store = open(ALICE);
    assertEquals(Optional.empty(), store.syncToken());
  }

  @Test
  void secrets_stayOutOfToString() {
    EncryptedPickle p = new EncryptedPickle("SECRETPICKLE");
    Changes c =
        new Changes()
            .putAccount(new AccountRecord(p, false))
            .putValue("k", "SECRETVALUE".getBytes());
    String all = p + " " + new AccountRecord(p, false) + " " + c + " " + c.list();
    assertFalse(all.contains("SECRET"), all);
    assertTrue(all.contains("12 chars"), all);
  }

  private static ReplayRecord replay(String session, long index, String eventId) {
    return new ReplayRecord(ROOM, "senderKey-" + session, session, index, eventId, 1000 + index);
  }

  @Test
  void replayRecords_firstRecordOfAnIndexWins_andSurviveReopen() {
    store.save(new Changes().putReplayRecord(replay("s", 0, "$a")));
    store.save(
        new Changes().putReplayRecord(replay("s", 0, "$b")).putReplayRecord(replay("s", 1, "$c")));
    reopen();
    assertEquals(
        Optional.of(replay("s", 0, "$a")), store.replayRecord(ROOM, "senderKey-s", "s", 0));
    assertEquals(
        Optional.of(replay("s", 1, "$c")), store.replayRecord(ROOM, "senderKey-s", "s", 1));
    assertEquals(Optional.empty(), store.replayRecord(ROOM, "senderKey-s", "s", 2));
    // Keyed by the session's full identity: another room or sender key is another session.
    assertEquals(Optional.empty(), store.replayRecord(ROOM2, "senderKey-s", "s", 0));
    assertEquals(Optional.empty(), store.replayRecord(ROOM, "senderKey-t", "s", 0));
    assertEquals(2, store.replayRecordCount());
    assertEquals(1, store.replayRecordMaxIndex(ROOM, "senderKey-s", "s"));
    assertEquals(-1, store.replayRecordMaxIndex(ROOM2, "senderKey-s", "s"));
    assertEquals(-1, store.replayRecordMaxIndex(ROOM, "senderKey-t", "s"));
    try (CryptoStore bob = open(BOB)) {
      assertEquals(-1, bob.replayRecordMaxIndex(ROOM, "senderKey-s", "s"));
      assertEquals(Optional.empty(), bob.replayRecord(ROOM, "senderKey-s", "s", 0));
      assertEquals(0, bob.replayRecordCount());
    }
  }

  @Test
  void replayRecords_pruneKeepsTheNewestRecorded() {
    Changes first = new Changes();
    for (int i = 0; i < 10; i++) {
      first.putReplayRecord(replay("s", i, "$e" + i));
    }
    store.save(first);
    store.save(new Changes().pruneReplayRecords(20));
    assertEquals(10, store.replayRecordCount(), "below the bound nothing goes");
    // A put of a kept index does not renew it: order is that of first recording.
    store.save(new Changes().putReplayRecord(replay("s", 0, "$other")).pruneReplayRecords(4));
    assertEquals(4, reopen().replayRecordCount());
    for (int i = 0; i < 6; i++) {
      assertEquals(Optional.empty(), store.replayRecord(ROOM, "senderKey-s", "s", i), "" + i);
    }
    for (int i = 6; i < 10; i++) {
      assertEquals(
          Optional.of(replay("s", i, "$e" + i)), store.replayRecord(ROOM, "senderKey-s", "s", i));
    }
    try (CryptoStore bob = open(BOB)) {
      bob.save(new Changes().putReplayRecord(replay("s", 0, "$bob")).pruneReplayRecords(1));
    }
    assertEquals(4, store.replayRecordCount(), "another account's prune leaves ours alone");
  }
}
