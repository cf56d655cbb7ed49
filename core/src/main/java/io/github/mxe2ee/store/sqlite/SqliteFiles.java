package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Cheap checks of an existing database file before SQLite touches it, so that an empty, foreign or
 * truncated file is reported instead of being initialised as a fresh (empty) store. Not API.
 *
 * <pre>
 * SQLite header (https://sqlite.org/fileformat2.html#the_database_header), big-endian:
 * offset size field
 *      0   16 "SQLite format 3\0"
 *     16    2 page size (1 means 65536)
 *     24    4 file change counter
 *     28    4 database size in pages (valid if offset 92 equals offset 24)
 *     92    4 version-valid-for number
 * </pre>
 */
final class SqliteFiles {
  /** Size of the SQLite file header. */
  static final int HEADER_SIZE = 100;

  private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  private SqliteFiles() {}

  /**
   * Checks that {@code file} starts with a SQLite header and is at least as long as the header says
   * (pages moved to the WAL but not checkpointed only ever make the file longer).
   *
   * @throws StoreException CORRUPT with expected vs actual sizes, IO if unreadable
   */
  static void checkHeader(Path file) {
    long size;
    byte[] header = new byte[HEADER_SIZE];
    int read;
    try (InputStream in = Files.newInputStream(file)) {
      size = Files.size(file);
      read = in.readNBytes(header, 0, HEADER_SIZE);
    } catch (IOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot read crypto store file " + file + ": " + e, e);
    }
    if (read < HEADER_SIZE) {
      throw new StoreException(
          StoreException.Reason.CORRUPT,
          "crypto store file "
              + file
              + " is truncated: expected a "
              + HEADER_SIZE
              + "-byte SQLite header, file has "
              + size
              + " bytes; restore it from a backup (the file was left untouched)");
    }
    if (!Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new StoreException(
          StoreException.Reason.CORRUPT,
          "crypto store file "
              + file
              + " is not a SQLite database (bad header magic); the file was left untouched");
    }
    int pageSize = u16(header, 16) == 1 ? 65536 : u16(header, 16);
    long changeCounter = u32(header, 24);
    long pages = u32(header, 28);
    long validFor = u32(header, 92);
    if (pages > 0 && changeCounter == validFor && size < pages * pageSize && !hasPendingWal(file)) {
      throw new StoreException(
          StoreException.Reason.CORRUPT,
          "crypto store file "
              + file
              + " is truncated: header says "
              + pages * pageSize
              + " bytes ("
              + pages
              + " pages of "
              + pageSize
              + "), file has "
              + size
              + "; restore it from a backup (the file was left untouched)");
    }
  }

  private static boolean hasPendingWal(Path file) {
    Path wal = file.resolveSibling(file.getFileName() + "-wal");
    try {
      return Files.exists(wal) && Files.size(wal) > 0;
    } catch (IOException e) {
      return true;
    }
  }

  private static int u16(byte[] b, int off) {
    return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
  }

  private static long u32(byte[] b, int off) {
    return ((long) (b[off] & 0xff) << 24)
        | ((b[off + 1] & 0xff) << 16)
        | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }
}
