package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Careless operator (issue 10, item 5): the SQLite store holds every device list, session id and
 * sender key of the bot (and, sealed under the pickle key, its private keys). It must never be
 * readable by other local users, whatever the process umask: the database, its {@code -wal} and
 * {@code -shm} and the lock file are owner-only (0600), and a store an older version left
 * group/world-readable is tightened on open.
 */
class StorePermissionsTest {
  private static final AccountId BOT = AccountId.of("@bot:example.org", "BOTDEVICE");

  @TempDir Path dir;

  @BeforeEach
  void posixOnly() {
    assumeTrue(
        FileSystems.getDefault().supportedFileAttributeViews().contains("posix"),
        "POSIX permissions");
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  /** The database and every SQLite side file that exists next to it now. */
  private static List<Path> storeFiles(Path db) {
    List<Path> out = new ArrayList<>();
    for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
      Path p = db.resolveSibling(db.getFileName() + suffix);
      if (Files.exists(p)) {
        out.add(p);
      }
    }
    return out;
  }

  @Test
  void newStore_databaseWalAndShm_areOwnerOnly_underUmask022() throws Exception {
    Path db = dir.resolve("state/crypto.db");
    try (CryptoStore store = SqliteCryptoStore.open(db, BOT)) {
      store.save(new Changes().putSyncToken("s1"));
      List<Path> files = storeFiles(db);
      assertTrue(
          files.stream().anyMatch(p -> p.toString().endsWith("-wal")),
          "the WAL exists while the store is open: " + files);
      assertTrue(files.stream().anyMatch(p -> p.toString().endsWith("-shm")), files.toString());
      for (Path p : files) {
        assertEquals("rw-------", perms(p), p + " must be owner-only");
      }
      try (var siblings = Files.list(db.getParent())) {
        for (Path p : siblings.toList()) {
          assertTrue(perms(p).endsWith("------"), p + " next to the store is readable by others");
        }
      }
    }
    assertEquals("rwx------", perms(db.getParent()), "a directory the store creates is 0700");
  }

  @Test
  void existingWorldReadableStore_isTightenedToOwnerOnly_andStillOpens() throws Exception {
    Path db = dir.resolve("crypto.db");
    try (CryptoStore store = SqliteCryptoStore.open(db, BOT)) {
      store.save(new Changes().putSyncToken("kept"));
    }
    // What every store made before this fix looks like: created under umask 022.
    for (Path p : storeFiles(db)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-r--r--"));
    }
    try (CryptoStore store = SqliteCryptoStore.open(db, BOT)) {
      assertEquals(Optional.of("kept"), store.syncToken());
      store.save(new Changes().putSyncToken("kept2"));
      for (Path p : storeFiles(db)) {
        assertEquals("rw-------", perms(p), p + " must be tightened on open");
      }
    }
  }

  @Test
  void groupWritableWalLeftBehind_isTightenedBeforeSqliteReusesIt() throws Exception {
    Path db = dir.resolve("crypto.db");
    try (CryptoStore store = SqliteCryptoStore.open(db, BOT)) {
      store.save(new Changes().putSyncToken("a"));
    }
    Path wal = db.resolveSibling("crypto.db-wal");
    Files.write(wal, new byte[0]);
    Files.setPosixFilePermissions(wal, PosixFilePermissions.fromString("rw-rw-rw-"));
    try (CryptoStore store = SqliteCryptoStore.open(db, BOT)) {
      store.save(new Changes().putSyncToken("b"));
      assertEquals("rw-------", perms(wal));
    }
  }
}
