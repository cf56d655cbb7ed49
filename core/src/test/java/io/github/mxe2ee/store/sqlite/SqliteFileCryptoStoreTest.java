package io.github.mxe2ee.store.sqlite;

import static io.github.mxe2ee.store.Fixtures.ALICE;
import static io.github.mxe2ee.store.Fixtures.ROOM;
import static io.github.mxe2ee.store.Fixtures.inbound;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.CryptoStoreContractTest;
import io.github.mxe2ee.store.StoreException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on a SQLite file, plus file-only behaviour: migrations and damaged files. */
class SqliteFileCryptoStoreTest extends CryptoStoreContractTest {
  @TempDir Path dir;

  private Path file() {
    return dir.resolve("crypto.db");
  }

  @Override
  protected CryptoStore open(AccountId account) {
    return SqliteCryptoStore.open(file(), account);
  }

  private static StoreException openFails(Path file) {
    byte[] before = read(file);
    StoreException e =
        assertThrows(StoreException.class, () -> SqliteCryptoStore.open(file, ALICE).close());
    assertArrayEquals(before, read(file), "a damaged store file must be left untouched");
    return e;
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static void execute(Path file, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static int queryInt(Path file, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void newFile_isWalWithCurrentSchema_andNoStrayFiles() throws Exception {
    store.close();
    assertEquals(
        SqliteCryptoStore.latestSchemaVersion(),
        queryInt(file(), "SELECT max(version) FROM schema_version"));
    try (Stream<Path> files = Files.list(dir)) {
      List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
      // The lock file stays on purpose (see SqliteAccountLock); nothing else may.
      assertEquals(List.of("crypto.db", "crypto.db.lock"), names);
    }
    // The WAL flag lives in the header: file format read/write versions 2 (bytes 18 and 19).
    byte[] header = read(file());
    assertEquals(2, header[18]);
    assertEquals(2, header[19]);
    store = open(ALICE);
    ((SqliteCryptoStore) store).checkIntegrity();
  }

  @Test
  void newerSchema_isRefused_andLeftUntouched() throws Exception {
    store.close();
    execute(
        file(),
        "INSERT INTO schema_version (version, applied_at) VALUES ("
            + (SqliteCryptoStore.latestSchemaVersion() + 1)
            + ", 0)");
    StoreException e = openFails(file());
    assertEquals(StoreException.Reason.SCHEMA_TOO_NEW, e.reason());
    assertTrue(
        e.getMessage().contains("schema version " + (SqliteCryptoStore.latestSchemaVersion() + 1)),
        e.getMessage());
  }

  @Test
  void migration_upgradesExistingStoreInPlace_keepingData() throws Exception {
    store.save(
        new Changes().putInboundGroupSession(inbound(ROOM, "s", true, false)).putSyncToken("t"));
    store.close();
    SqliteMigrations withV6 =
        SqliteMigrations.load("/io/github/mxe2ee/store/sqlite/testmigrations/");
    assertEquals(6, withV6.latestVersion());
    store = SqliteCryptoStore.open(file(), ALICE, withV6);
    assertEquals(
        Optional.of(inbound(ROOM, "s", true, false)),
        store.inboundGroupSessions(ROOM, "s").stream().findFirst());
    assertEquals(Optional.of("t"), store.syncToken());
    store.close();
    assertEquals(6, queryInt(file(), "SELECT max(version) FROM schema_version"));
    assertEquals(7, queryInt(file(), "SELECT test_flag FROM accounts"));
    assertEquals(0, queryInt(file(), "SELECT count(*) FROM test_notes"));
    // Code that only knows V1 to V5 now refuses the upgraded file.
    assertEquals(StoreException.Reason.SCHEMA_TOO_NEW, openFails(file()).reason());
  }

  @Test
  void migrations_areNumberedContiguously() {
    assertEquals(5, SqliteMigrations.load(SqliteMigrations.DEFAULT_DIR).latestVersion());
    List<String> statements =
        SqliteMigrations.statements(
            "-- c\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (\n y INT\n);\n");
    assertEquals(List.of("CREATE TABLE a (x INT);", "CREATE TABLE b (\n y INT\n);"), statements);
  }

  @Test
  void emptyFile_isCorrupt_notReinitialised() throws Exception {
    store.close();
    Files.write(file(), new byte[0]);
    StoreException e = openFails(file());
    assertEquals(StoreException.Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void garbageFile_isCorrupt() throws Exception {
    store.close();
    byte[] junk = new byte[8192];
    new Random(1).nextBytes(junk);
    Files.write(file(), junk);
    StoreException e = openFails(file());
    assertEquals(StoreException.Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains("not a SQLite database"), e.getMessage());
  }

  @Test
  void truncatedFile_isCorrupt_withSizes() throws Exception {
    Changes c = new Changes();
    for (int i = 0; i < 500; i++) {
      c.putInboundGroupSession(inbound(ROOM, "s" + i, false, false));
    }
    store.save(c);
    store.close();
    long size = Files.size(file());
    assertTrue(size > 16 * 4096, "store should span many pages, has " + size);
    try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
      raf.setLength(size / 2);
    }
    StoreException e = openFails(file());
    assertEquals(StoreException.Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertTrue(e.getMessage().contains("file has " + size / 2), e.getMessage());

    try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
      raf.setLength(60);
    }
    assertEquals(StoreException.Reason.CORRUPT, openFails(file()).reason());
  }

  @Test
  void damagedPages_areReportedAsCorrupt() throws Exception {
    Changes c = new Changes();
    for (int i = 0; i < 500; i++) {
      c.putInboundGroupSession(inbound(ROOM, "s" + i, false, false));
    }
    store.save(c);
    store.close();
    long size = Files.size(file());
    try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
      byte[] junk = new byte[4096];
      new Random(2).nextBytes(junk);
      for (long off = 4096 * 2; off < size - 4096; off += 4096 * 3) {
        raf.seek(off);
        raf.write(junk);
      }
    }
    StoreException e;
    try {
      store = open(ALICE);
      SqliteCryptoStore s = (SqliteCryptoStore) store;
      e = assertThrows(StoreException.class, s::checkIntegrity);
    } catch (StoreException atOpen) {
      e = atOpen;
    }
    assertEquals(StoreException.Reason.CORRUPT, e.reason(), e.getMessage());
  }

  @Test
  void foreignSqliteDatabase_isRefused() throws Exception {
    store.close();
    Path other = dir.resolve("other.db");
    execute(other, "CREATE TABLE photos (id INTEGER PRIMARY KEY)");
    StoreException e = openFails(other);
    assertEquals(StoreException.Reason.CORRUPT, e.reason());
    assertTrue(e.getMessage().contains("not an mxe2ee crypto store"), e.getMessage());
  }

  @Test
  void twoAccountsInOneFile_areIndependentRows() throws Exception {
    store.save(new Changes().putSyncToken("a"));
    try (CryptoStore bob = open(io.github.mxe2ee.store.Fixtures.BOB)) {
      bob.save(new Changes().putSyncToken("b"));
    }
    store.close();
    assertEquals(2, queryInt(file(), "SELECT count(*) FROM accounts"));
    store = open(ALICE);
    assertEquals(Optional.of("a"), store.syncToken());
  }
}
