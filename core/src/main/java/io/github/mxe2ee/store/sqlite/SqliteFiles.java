package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

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

  private static final System.Logger LOG = System.getLogger(SqliteFiles.class.getName());

  /**
   * The side files SQLite keeps next to a database: WAL, shared-memory index, rollback journal. It
   * creates them with the database file's permission bits, so an owner-only database gets
   * owner-only side files; {@link #tightenPermissions} also fixes ones left by older versions.
   */
  static final List<String> SIDE_FILE_SUFFIXES = List.of("-wal", "-shm", "-journal");

  /** Group and other bits: none of them may be set on a store file. */
  private static final Set<PosixFilePermission> NOT_OWNER =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

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

  /** Whether {@code p}'s file system has POSIX permissions (false on Windows). */
  static boolean posix(Path p) throws IOException {
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    return existing != null
        && Files.getFileStore(existing).supportsFileAttributeView(PosixFileAttributeView.class);
  }

  /** Creates missing parent directories of {@code file}, owner-only (0700) where POSIX. */
  static void createParentDirectories(Path file) throws IOException {
    Path dir = file.getParent();
    if (dir == null || Files.isDirectory(dir)) {
      return;
    }
    if (posix(dir)) {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      Files.createDirectories(dir);
    }
  }

  /**
   * Creates {@code file} empty with permissions 0600 set at creation (the umask cannot widen them),
   * or does nothing if it exists.
   */
  static void createOwnerOnly(Path file) throws IOException {
    FileAttribute<?>[] attrs =
        posix(file)
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    try {
      Files.createFile(file, attrs);
    } catch (FileAlreadyExistsException e) {
      // Made by another process or an earlier run; its permissions are checked by the caller.
    }
  }

  /**
   * Removes group and other permission bits from the database and its side files (an existing store
   * made by an older version under umask 022 is world-readable), logging a warning for each file
   * changed. The owner's bits stay. Why tighten rather than refuse: the pickles inside are sealed
   * under the pickle key, but device lists, room and session ids and sender keys are not, and
   * refusing would stop every bot whose store was made before this check on upgrade, while the fix
   * is safe and what the operator wants.
   *
   * @throws StoreException IO if a file readable by others cannot be changed (owned by another
   *     user): the message says which and how to fix it
   */
  static void tightenPermissions(Path db) {
    try {
      if (!posix(db)) {
        return;
      }
    } catch (IOException e) {
      return;
    }
    tighten(db);
    for (String suffix : SIDE_FILE_SUFFIXES) {
      tighten(db.resolveSibling(db.getFileName() + suffix));
    }
  }

  private static void tighten(Path file) {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(file);
    } catch (java.nio.file.NoSuchFileException e) {
      return;
    } catch (IOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot read permissions of crypto store file " + file, e);
    }
    Set<PosixFilePermission> tight = EnumSet.noneOf(PosixFilePermission.class);
    tight.addAll(perms);
    tight.removeAll(NOT_OWNER);
    if (tight.equals(perms)) {
      return;
    }
    try {
      Files.setPosixFilePermissions(file, tight);
    } catch (IOException e) {
      throw new StoreException(
          StoreException.Reason.IO,
          "crypto store file "
              + file
              + " has permissions "
              + PosixFilePermissions.toString(perms)
              + " (other local users can reach it) and cannot be changed by this process ("
              + e
              + "); run the bot as the file's owner, or fix it with: chmod 600 "
              + file,
          e);
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "crypto store file {0} had permissions {1}, reachable by other local users;"
            + " tightened to {2}. Check who could have read it while it was open.",
        file,
        PosixFilePermissions.toString(perms),
        PosixFilePermissions.toString(tight));
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
