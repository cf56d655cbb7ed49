package io.github.mxe2ee.store.sqlite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConnection;

/**
 * Driver settings the store relies on for speed: a page cache that holds a large store (see {@link
 * SqliteCryptoStore#PAGE_CACHE_KIB}), and no generated keys: with generated keys on, sqlite-jdbc
 * prepares and runs an extra {@code SELECT last_insert_rowid()} after every INSERT, which made a
 * 10,000-row save (a room key shared with 10,000 devices) markedly slower.
 */
class SqliteConnectionsTest {
  @TempDir Path dir;

  @Test
  void fileAndMemoryConnections_doNotFetchGeneratedKeys() throws Exception {
    try (Connection file = SqliteConnections.openFile(dir.resolve("keys.db"), true);
        Connection memory = SqliteConnections.openMemory("generated-keys-test")) {
      for (Connection c : new Connection[] {file, memory}) {
        SQLiteConnection sqlite = c.unwrap(SQLiteConnection.class);
        assertFalse(sqlite.getConnectionConfig().isGetGeneratedKeys());
        try (var st = c.createStatement();
            var rs = st.executeQuery("PRAGMA cache_size")) {
          rs.next();
          assertEquals(-SqliteCryptoStore.PAGE_CACHE_KIB, rs.getInt(1));
        }
        // Still a working connection: an INSERT runs and reports its row count.
        try (var st = c.createStatement()) {
          st.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
          assertEquals(1, st.executeUpdate("INSERT INTO t (v) VALUES ('x')"));
        }
      }
    }
  }
}
