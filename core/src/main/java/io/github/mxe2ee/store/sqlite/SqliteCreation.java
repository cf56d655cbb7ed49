package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.StoreException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Creates a new store file so that the final path only ever names a fully initialised database: the
 * schema is built in a temporary sibling file, which is then hard-linked (no-replace) into place. A
 * crash leaves at most a stray {@code *.creating-*} file, never a half-made store at the real path,
 * so an existing empty file at the real path is always an error. Not API.
 */
final class SqliteCreation {
  private SqliteCreation() {}

  static void createAtomically(Path file, SqliteMigrations migrations) {
    Path tmp = file.resolveSibling(file.getFileName() + ".creating-" + UUID.randomUUID());
    try {
      SqliteFiles.createParentDirectories(file);
      // Owner-only from its first byte: SQLite keeps an existing file's mode, and gives the WAL
      // and shared-memory files the database's mode, so the whole store stays 0600 under any umask.
      SqliteFiles.createOwnerOnly(tmp);
      try (Connection conn = SqliteConnections.openFile(tmp, true)) {
        SqliteConnections.enableWal(conn, tmp.toString());
        migrations.migrate(conn, tmp.toString());
      } catch (SQLException e) {
        throw SqliteErrors.translate("initialising new crypto store " + tmp, e);
      }
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException e) {
        // Another process created the store first; use theirs.
      } catch (UnsupportedOperationException e) {
        try {
          Files.move(tmp, file);
        } catch (FileAlreadyExistsException ignored) {
          // Another process created the store first; use theirs.
        }
      }
      syncDirectory(file.getParent());
    } catch (IOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot create crypto store " + file + ": " + e, e);
    } finally {
      deleteQuietly(tmp);
      deleteQuietly(tmp.resolveSibling(tmp.getFileName() + "-wal"));
      deleteQuietly(tmp.resolveSibling(tmp.getFileName() + "-shm"));
    }
  }

  private static void syncDirectory(Path dir) {
    if (dir == null) {
      return;
    }
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open directories; the link is still made, only its durability
      // against power loss is then up to the file system.
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // A stray temporary file is harmless; it never holds account data.
    }
  }
}
