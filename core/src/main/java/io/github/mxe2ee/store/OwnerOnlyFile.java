package io.github.mxe2ee.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Small files that hold a secret (the pickle key file, the bot's recovery key file): created
 * owner-only (0600) from their first byte, and checked to be so before they are read. A new file is
 * written to a temporary sibling (0600), fsynced, then hard-linked into place, so two processes
 * never both create one (the loser reads the winner's) and no reader ever sees half a file. On file
 * systems without POSIX permissions the permission parts are skipped. Nothing here prints a file's
 * content; callers turn the results into their own errors.
 */
public final class OwnerOnlyFile {
  /** Group and other permission bits: any of them on a secret file is refused. */
  public static final Set<PosixFilePermission> GROUP_OR_OTHER =
      Set.copyOf(
          EnumSet.of(
              PosixFilePermission.GROUP_READ,
              PosixFilePermission.GROUP_WRITE,
              PosixFilePermission.GROUP_EXECUTE,
              PosixFilePermission.OTHERS_READ,
              PosixFilePermission.OTHERS_WRITE,
              PosixFilePermission.OTHERS_EXECUTE));

  private OwnerOnlyFile() {}

  /**
   * The permissions of {@code file} if any group or other bit is set, else null (also on file
   * systems without POSIX permissions).
   */
  public static Set<PosixFilePermission> tooOpen(Path file) throws IOException {
    if (!posix(file)) {
      return null;
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
    for (PosixFilePermission p : perms) {
      if (GROUP_OR_OTHER.contains(p)) {
        return perms;
      }
    }
    return null;
  }

  /**
   * The message for a file {@link #tooOpen} refused: its permissions and the command that fixes
   * them.
   */
  public static String tooOpenMessage(String what, Path file, Set<PosixFilePermission> perms) {
    return what
        + " "
        + file
        + " has permissions "
        + PosixFilePermissions.toString(perms)
        + ", expected owner-only (rw-------); fix with: chmod 600 "
        + file;
  }

  /**
   * Creates {@code file} (its directory must exist) holding {@code content}, owner-only from the
   * start, unless another process creates it first.
   *
   * @return true if this call created it, false if it already existed (then it is left as it is)
   */
  public static boolean create(Path file, byte[] content) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    FileAttribute<?>[] attrs =
        posix(dir)
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp", attrs);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      boolean created = true;
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException e) {
        created = false;
      } catch (UnsupportedOperationException e) {
        try {
          Files.move(tmp, file);
        } catch (FileAlreadyExistsException raced) {
          created = false;
        }
      }
      syncDirectory(dir);
      return created;
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (NoSuchFileException e) {
        // Moved into place.
      }
    }
  }

  /** True if {@code p} (or, if it does not exist yet, its nearest existing ancestor) is POSIX. */
  public static boolean posix(Path p) throws IOException {
    Path existing = p.toAbsolutePath();
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    return Files.getFileStore(existing == null ? p.toAbsolutePath().getRoot() : existing)
        .supportsFileAttributeView(PosixFileAttributeView.class);
  }

  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Not possible on every platform; the file itself is already fsynced.
    }
  }
}
