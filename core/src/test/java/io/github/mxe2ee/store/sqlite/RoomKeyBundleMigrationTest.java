package io.github.mxe2ee.store.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.PendingRoomKeyBundle;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: the V4 migration re-keys {@code pending_room_key_bundles} from (account, room) to
 * (account, room, inviter). A V3 store's announcements survive it unchanged, and afterwards a
 * second sender's announcement for the same room is kept beside the first instead of replacing it.
 */
class RoomKeyBundleMigrationTest {
  private static final AccountId ALICE = AccountId.of("@alice:example.org", "ALICEDEVICE");

  @TempDir Path dir;

  @Test
  void v3PendingBundles_surviveV4_andBecomePerSender() throws SQLException {
    Path file = dir.resolve("v3.db");
    PendingRoomKeyBundle a = new PendingRoomKeyBundle("!a:x", "@i:x", "{\"a\":1}", 5);
    PendingRoomKeyBundle b = new PendingRoomKeyBundle("!b:x", "@j:x", "{\"b\":2}", 6);
    SqliteCryptoStore.open(
            file, ALICE, SqliteMigrations.load("/io/github/mxe2ee/store/sqlite/v3only/"))
        .close();
    // Rows as version 3 wrote them (its code cannot run here: it upserted on (account, room)).
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      long account;
      try (var rs = c.createStatement().executeQuery("SELECT id FROM accounts")) {
        rs.next();
        account = rs.getLong(1);
      }
      for (PendingRoomKeyBundle p : List.of(a, b)) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO pending_room_key_bundles"
                    + " (account_id, room_id, inviter, bundle_json, received_at)"
                    + " VALUES (?, ?, ?, ?, ?)")) {
          ps.setLong(1, account);
          ps.setString(2, p.roomId());
          ps.setString(3, p.inviter());
          ps.setString(4, p.bundleInfoJson());
          ps.setLong(5, p.receivedAtMillis());
          ps.executeUpdate();
        }
      }
    }
    try (SqliteCryptoStore v4 = SqliteCryptoStore.open(file, ALICE)) {
      assertEquals(List.of(a, b), v4.pendingRoomKeyBundles());
      PendingRoomKeyBundle other = new PendingRoomKeyBundle("!a:x", "@z:x", "{}", 7);
      v4.save(new Changes().putPendingRoomKeyBundle(other));
      assertEquals(Optional.of(a), v4.pendingRoomKeyBundle("!a:x", "@i:x"));
      assertEquals(List.of(a, other, b), v4.pendingRoomKeyBundles());
    }
  }
}
