package io.github.mxe2ee.store.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.WithheldRecord;
import java.nio.charset.StandardCharsets;
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
 * Issue 10, defect 2: a V1 store kept the "unauthenticated" mark of an imported session in {@code
 * key_values} as {@code igs.unauthenticated.<session id>} and the sender binding as {@code
 * igs.sender.<room>|<session>}. The V2 migration moves both into the session's row, keyed by (room,
 * sender key, session id), and removes the entries, without losing a session.
 */
class SessionBindingMigrationTest {
  private static final AccountId ALICE = AccountId.of("@alice:example.org", "ALICEDEVICE");
  private static final String ROOM = "!room:example.org";
  private static final String OTHER = "!other:example.org";

  @TempDir Path dir;

  @Test
  void v1UnauthenticatedMarks_becomeTheRowsFlag_andAreRemoved() throws SQLException {
    Path file = dir.resolve("v1.db");
    SqliteCryptoStore.open(
            file, ALICE, SqliteMigrations.load("/io/github/mxe2ee/store/sqlite/v1only/"))
        .close();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      long account = 0;
      try (var rs = c.createStatement().executeQuery("SELECT id FROM accounts")) {
        rs.next();
        account = rs.getLong(1);
      }
      // "imported": marked unauthenticated. "received": from m.room_key, bound to Carol.
      // "forged": the attack already happened: the mark was cleared by an m.room_key for
      // another room, so the id now exists in two rooms.
      insertSession(c, account, ROOM, "imported", "K1");
      insertSession(c, account, ROOM, "received", "K2");
      insertSession(c, account, ROOM, "forged", "K1");
      insertSession(c, account, OTHER, "forged", "KM");
      insertValue(c, account, "igs.unauthenticated.imported", "1");
      insertValue(c, account, "igs.sender." + ROOM + "|received", "@carol:example.org");
      insertValue(c, account, "igs.sender." + OTHER + "|forged", "@mallory:example.org");
      insertValue(c, account, "backup.version", "3");
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO withheld_sessions (account_id, room_id, session_id, sender_key, code)"
                  + " VALUES (?, ?, 'w', 'K1', 'm.unverified')")) {
        ps.setLong(1, account);
        ps.setString(2, ROOM);
        ps.executeUpdate();
      }
    }

    try (SqliteCryptoStore store = SqliteCryptoStore.open(file, ALICE)) {
      assertEquals(4, store.inboundGroupSessionCount(), "no session lost");
      InboundGroupSessionRecord imported =
          store.inboundGroupSession(ROOM, "K1", "imported").orElseThrow();
      assertFalse(imported.authenticated());
      assertNull(imported.senderUserId());
      InboundGroupSessionRecord received =
          store.inboundGroupSession(ROOM, "K2", "received").orElseThrow();
      assertTrue(received.authenticated());
      assertEquals("@carol:example.org", received.senderUserId());
      assertEquals("pickle-received", received.pickle().ciphertext());
      assertFalse(store.inboundGroupSession(ROOM, "K1", "forged").orElseThrow().authenticated());
      InboundGroupSessionRecord forgedElsewhere =
          store.inboundGroupSession(OTHER, "KM", "forged").orElseThrow();
      assertFalse(forgedElsewhere.authenticated(), "one id in two rooms: neither is trusted");
      assertEquals("@mallory:example.org", forgedElsewhere.senderUserId());

      assertEquals(Optional.empty(), store.value("igs.unauthenticated.imported"));
      assertEquals(Optional.empty(), store.value("igs.sender." + ROOM + "|received"));
      assertEquals(Optional.empty(), store.value("igs.sender." + OTHER + "|forged"));
      assertEquals(
          "3", new String(store.value("backup.version").orElseThrow(), StandardCharsets.UTF_8));
      assertEquals(
          List.of(new WithheldRecord(ROOM, "w", "K1", "m.unverified", null)),
          store.withheld(ROOM, "w"));
    }
  }

  private static void insertSession(
      Connection c, long account, String room, String session, String senderKey)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO inbound_group_sessions (account_id, room_id, session_id, sender_key,"
                + " signing_key, first_known_index, shared_history, backed_up, pickle) VALUES (?,"
                + " ?, ?, ?, 'ed', 0, 0, 1, ?)")) {
      ps.setLong(1, account);
      ps.setString(2, room);
      ps.setString(3, session);
      ps.setString(4, senderKey);
      ps.setString(5, "pickle-" + session);
      ps.executeUpdate();
    }
  }

  private static void insertValue(Connection c, long account, String key, String value)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO key_values (account_id, key, value) VALUES (?, ?, ?)")) {
      ps.setLong(1, account);
      ps.setString(2, key);
      ps.setBytes(3, value.getBytes(StandardCharsets.UTF_8));
      ps.executeUpdate();
    }
  }
}
