package io.github.mxe2ee.store.sqlite;

import static io.github.mxe2ee.store.Fixtures.ALICE;
import static io.github.mxe2ee.store.Fixtures.ROOM;
import static io.github.mxe2ee.store.Fixtures.device;
import static io.github.mxe2ee.store.Fixtures.inbound;
import static io.github.mxe2ee.store.Fixtures.olm;
import static io.github.mxe2ee.store.Fixtures.outbound;
import static io.github.mxe2ee.store.Fixtures.pickle;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.store.AccountRecord;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.KeyRequestState;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import io.github.mxe2ee.store.TrackedUser;
import io.github.mxe2ee.store.UserDevice;
import io.github.mxe2ee.store.WithheldRecord;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every statement the SQLite store runs, reads and writes, must find its rows through an index:
 * SQLite's {@code EXPLAIN QUERY PLAN} may show {@code SEARCH} steps (and temporary B-trees for
 * small sorts) but never a full {@code SCAN} of a table.
 */
class SqliteQueryPlanTest {
  @TempDir Path dir;

  @Test
  void everyStatement_usesAnIndex() throws Exception {
    Path file = dir.resolve("plan.db");
    Set<String> statements;
    try (SqliteCryptoStore s = SqliteCryptoStore.open(file, ALICE)) {
      UserDevice d = new UserDevice("@u:example.org", "D");
      s.save(
          new Changes()
              .putAccount(new AccountRecord(pickle("a"), true))
              .putOlmSession(olm("K", "s", 1))
              .putInboundGroupSession(inbound(ROOM, "i", true, false))
              .markInboundGroupSessionBackedUp(ROOM, "senderKey-i", "i")
              .resetInboundGroupSessionBackup()
              .putOutboundGroupSession(outbound(ROOM, "O", 1))
              .putOutboundSharedWith(ROOM, "O", d, 0)
              .putDevice(device("@u:example.org", "D", LocalTrust.VERIFIED, false))
              .putCrossSigningIdentity(
                  new CrossSigningIdentityRecord("@u:example.org", "{}", LocalTrust.UNSET))
              .putTrackedUser(new TrackedUser("@u:example.org", true))
              .putOutgoingKeyRequest(new OutgoingKeyRequest("r", ROOM, "x", KeyRequestState.SENT))
              .putWithheld(new WithheldRecord(ROOM, "w", "K", "m.unverified", null))
              .putSyncToken("t")
              .putPendingRoomKeyBundle(new PendingRoomKeyBundle(ROOM, "@i:example.org", "{}", 1))
              .putValue("k", new byte[] {1}));
      s.save(
          new Changes()
              .deleteOlmSession("K", "s")
              .deleteInboundGroupSession(ROOM, "senderKey-i", "i")
              .deleteOutboundGroupSession(ROOM)
              .deleteDevice("@u:example.org", "D")
              .deleteCrossSigningIdentity("@u:example.org")
              .deleteTrackedUser("@u:example.org")
              .deleteOutgoingKeyRequest("r")
              .deleteWithheld(ROOM, "K", "w")
              .deletePendingRoomKeyBundle(ROOM, "@i:example.org")
              .deleteValue("k"));
      s.account();
      s.olmSessions("K");
      s.inboundGroupSession(ROOM, "senderKey-i", "i");
      s.inboundGroupSessions(ROOM, "i");
      s.inboundGroupSessionsAfter(ROOM, "senderKey-i", "i", 10);
      s.inboundGroupSessionsToBackUp(10);
      s.sharedHistoryInboundGroupSessions(ROOM);
      s.inboundGroupSessionCount();
      s.outboundGroupSession(ROOM);
      s.outboundSharedWith(ROOM);
      s.devices("@u:example.org");
      s.device("@u:example.org", "D");
      s.crossSigningIdentity("@u:example.org");
      s.trackedUser("@u:example.org");
      s.trackedUsers();
      s.outdatedUsers();
      s.outgoingKeyRequest("r");
      s.outgoingKeyRequestFor(ROOM, "x");
      s.outgoingKeyRequests(KeyRequestState.UNSENT);
      s.withheld(ROOM, "w");
      s.syncToken();
      s.pendingRoomKeyBundle(ROOM, "@i:example.org");
      s.pendingRoomKeyBundles();
      s.value("k");
      statements = s.preparedSql();
    }
    assertTrue(statements.size() >= 40, "expected every statement, got " + statements.size());
    List<String> scans = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      for (String sql : statements) {
        try (PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
          for (int i = 1; i <= ps.getParameterMetaData().getParameterCount(); i++) {
            ps.setObject(i, 1);
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              String detail = rs.getString("detail");
              if (detail.startsWith("SCAN") && !detail.equals("SCAN CONSTANT ROW")) {
                scans.add(detail + "  <=  " + sql);
              }
            }
          }
        }
      }
    }
    assertEquals(List.of(), scans, "statements without an index");
  }
}
