package io.github.mxe2ee.store.postgres;

import static io.github.mxe2ee.store.Fixtures.ALICE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.CryptoStoreContractTest;
import io.github.mxe2ee.store.StoreException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The store contract on a real PostgreSQL server, started by {@code scripts/setup.d/40-postgres.sh}
 * (URL overridable with {@code MXE2EE_PG_URL}). Each test gets its own schema. Without a server the
 * tests are skipped, except in CI ({@code CI} set), where a missing server is a failure.
 */
class PostgresCryptoStoreTest extends CryptoStoreContractTest {
  static final String URL =
      Optional.ofNullable(System.getenv("MXE2EE_PG_URL"))
          .orElse("jdbc:postgresql://127.0.0.1:54329/mxe2ee_test?user=mxe2ee");

  private final String schema = "t_" + UUID.randomUUID().toString().replace("-", "");
  private boolean schemaCreated;

  @BeforeAll
  static void serverAvailable() {
    try (Connection c = DriverManager.getConnection(URL + "&connectTimeout=5")) {
      c.isValid(5);
    } catch (SQLException e) {
      String hint =
          "no PostgreSQL at " + URL.split("\\?")[0] + "; run scripts/setup.d/40-postgres.sh";
      if (System.getenv("CI") != null) {
        throw new AssertionError(hint, e);
      }
      Assumptions.abort(hint);
    }
  }

  private void admin(String sql) {
    try (Connection c = DriverManager.getConnection(URL);
        Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new AssertionError(sql, e);
    }
  }

  private String schemaUrl() {
    if (!schemaCreated) {
      admin("CREATE SCHEMA " + schema);
      schemaCreated = true;
    }
    return URL + "&currentSchema=" + schema;
  }

  @Override
  protected CryptoStore open(AccountId account) {
    return PostgresCryptoStore.open(schemaUrl(), account);
  }

  @AfterEach
  void dropSchema() {
    store.close();
    admin("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  }

  @Test
  void sameAccount_cannotBeServedByTwoInstances() {
    StoreException e = assertThrows(StoreException.class, () -> open(ALICE));
    assertEquals(StoreException.Reason.LOCKED, e.reason());
    assertTrue(e.getMessage().contains("served by another instance"), e.getMessage());
    store.close();
    store = open(ALICE);
    store.save(new Changes().putSyncToken("after takeover"));
    assertEquals(Optional.of("after takeover"), store.syncToken());
  }

  /**
   * The server ends the store's session (as on a server restart or a failover): the call that finds
   * the connection gone fails with IO, the next one reconnects, re-takes the account lock and sees
   * everything saved before. Fault injected with {@code pg_terminate_backend}, by the real server.
   */
  @Test
  void lostConnection_reconnectsOnTheNextCall() {
    store.close();
    String application = "mxe2ee-test-" + UUID.randomUUID();
    Properties properties = new Properties();
    properties.setProperty("ApplicationName", application);
    store = PostgresCryptoStore.open(schemaUrl(), properties, ALICE);
    store.save(new Changes().putSyncToken("before"));

    admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
            + application
            + "'");
    StoreException lost =
        assertThrows(StoreException.class, () -> store.save(new Changes().putSyncToken("lost")));
    assertEquals(StoreException.Reason.IO, lost.reason());

    assertEquals(
        Optional.of("before"), store.syncToken(), "reconnected; the failed save is absent");
    store.save(new Changes().putSyncToken("after"));
    assertEquals(Optional.of("after"), store.syncToken());
    StoreException second = assertThrows(StoreException.class, () -> open(ALICE));
    assertTrue(second.getMessage().contains("served by another instance"), second.getMessage());
  }

  /**
   * A version 4 schema holding data migrates to version 5 (Megolm replay records) keeping it; the
   * new table starts empty and is usable.
   */
  @Test
  void v4StoreWithData_migratesToV5_keepingIt() throws Exception {
    store.close();
    admin("DROP SCHEMA " + schema + " CASCADE");
    admin("CREATE SCHEMA " + schema);
    try (Connection c = DriverManager.getConnection(URL + "&currentSchema=" + schema);
        Statement st = c.createStatement()) {
      String dir = "/io/github/mxe2ee/store/postgres/migrations/";
      List<String> names =
          new String(
                  getClass().getResourceAsStream(dir + "index.txt").readAllBytes(),
                  java.nio.charset.StandardCharsets.UTF_8)
              .lines()
              .map(String::strip)
              .toList();
      for (int v = 1; v <= 4; v++) {
        st.execute(
            new String(
                getClass().getResourceAsStream(dir + names.get(v - 1)).readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8));
      }
      st.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      st.execute("INSERT INTO schema_version VALUES (1, 0), (2, 0), (3, 0), (4, 0)");
      st.execute(
          "INSERT INTO accounts (user_id, device_id, sync_token) VALUES ('"
              + ALICE.userId()
              + "', '"
              + ALICE.deviceId()
              + "', 'token-v4')");
      st.execute(
          "INSERT INTO pending_room_key_bundles (account_id, room_id, inviter, bundle_json,"
              + " received_at) SELECT id, '!a:x', '@i:x', '{}', 5 FROM accounts");
    }
    store = open(ALICE);
    assertEquals(Optional.of("token-v4"), store.syncToken());
    assertEquals(
        List.of(new io.github.mxe2ee.store.PendingRoomKeyBundle("!a:x", "@i:x", "{}", 5)),
        store.pendingRoomKeyBundles());
    assertEquals(0, store.replayRecordCount());
    io.github.mxe2ee.store.ReplayRecord r =
        new io.github.mxe2ee.store.ReplayRecord("!a:x", "K", "s", 3, "$e", 9);
    store.save(new Changes().putReplayRecord(r));
    assertEquals(Optional.of(r), store.replayRecord("!a:x", "K", "s", 3));
  }

  /**
   * Issue 14: a version 3 schema with a pending room key bundle migrates to version 4 (bundles per
   * room and sender) keeping the row; a second sender's bundle for the room is then kept beside it.
   */
  @Test
  void v3PendingBundles_surviveV4_andBecomePerSender() throws Exception {
    store.close();
    admin("DROP SCHEMA " + schema + " CASCADE");
    admin("CREATE SCHEMA " + schema);
    try (Connection c = DriverManager.getConnection(URL + "&currentSchema=" + schema);
        Statement st = c.createStatement()) {
      for (int v = 1; v <= 3; v++) {
        String dir = "/io/github/mxe2ee/store/postgres/migrations/";
        String name =
            new String(
                    getClass().getResourceAsStream(dir + "index.txt").readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8)
                .lines()
                .toList()
                .get(v - 1)
                .strip();
        st.execute(
            new String(
                getClass().getResourceAsStream(dir + name).readAllBytes(),
                java.nio.charset.StandardCharsets.UTF_8));
      }
      st.execute(
          "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      st.execute("INSERT INTO schema_version VALUES (1, 0), (2, 0), (3, 0)");
      st.execute(
          "INSERT INTO accounts (user_id, device_id) VALUES ('"
              + ALICE.userId()
              + "', '"
              + ALICE.deviceId()
              + "')");
      st.execute(
          "INSERT INTO pending_room_key_bundles (account_id, room_id, inviter, bundle_json,"
              + " received_at) SELECT id, '!a:x', '@i:x', '{}', 5 FROM accounts");
    }
    store = open(ALICE);
    io.github.mxe2ee.store.PendingRoomKeyBundle kept =
        new io.github.mxe2ee.store.PendingRoomKeyBundle("!a:x", "@i:x", "{}", 5);
    assertEquals(java.util.List.of(kept), store.pendingRoomKeyBundles());
    io.github.mxe2ee.store.PendingRoomKeyBundle other =
        new io.github.mxe2ee.store.PendingRoomKeyBundle("!a:x", "@z:x", "{}", 6);
    store.save(new Changes().putPendingRoomKeyBundle(other));
    assertEquals(java.util.List.of(kept, other), store.pendingRoomKeyBundles());
  }

  @Test
  void newerSchema_isRefused() {
    store.close();
    admin(
        "INSERT INTO "
            + schema
            + ".schema_version (version, applied_at) VALUES ("
            + (PostgresCryptoStore.latestSchemaVersion() + 1)
            + ", 0)");
    StoreException e = assertThrows(StoreException.class, () -> open(ALICE));
    assertEquals(StoreException.Reason.SCHEMA_TOO_NEW, e.reason());
  }
}
