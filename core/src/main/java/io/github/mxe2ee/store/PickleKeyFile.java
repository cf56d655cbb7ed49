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
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * Reads or creates the pickle key file. Not API; use {@link PickleKeySource#fromKeyFile}.
 *
 * <p>Creation is atomic and never replaces an existing key: 32 random bytes are written to a
 * temporary sibling created with permissions 0600 from the start, fsynced, then hard-linked to the
 * final name (which fails if another process won the race, whose key is then used). On file systems
 * without POSIX permissions the permission checks are skipped. Before a key is read or created,
 * {@link PickleKeyFileChecks} refuses a file owned by another user and a directory chain that
 * another user could write to.
 */
final class PickleKeyFile {
  /** Group and other permission bits: any of them on the key file is refused. */
  private static final Set<PosixFilePermission> FORBIDDEN =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  private PickleKeyFile() {}

  static PickleKey loadOrCreate(Path file, SecureRandom random) {
    try {
      if (!Files.exists(file)) {
        create(file, random);
      }
      PickleKeyFileChecks.checkFile(file);
      return read(file);
    } catch (IOException e) {
      throw new PickleKeyException("cannot use pickle key file " + file + ": " + e.getMessage(), e);
    }
  }

  private static PickleKey read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new PickleKeyException("pickle key file " + file + " is not a regular file");
    }
    if (posix(file)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      Set<PosixFilePermission> bad = EnumSet.noneOf(PosixFilePermission.class);
      bad.addAll(perms);
      bad.retainAll(FORBIDDEN);
      if (!bad.isEmpty()) {
        throw new PickleKeyException(
            "pickle key file "
                + file
                + " has permissions "
                + PosixFilePermissions.toString(perms)
                + ", expected owner-only (rw-------); fix with: chmod 600 "
                + file);
      }
    }
    long size = Files.size(file);
    if (size != PickleKey.LENGTH) {
      throw new PickleKeyException(
          "pickle key file "
              + file
              + " has "
              + size
              + " bytes, expected exactly "
              + PickleKey.LENGTH
              + " raw bytes");
    }
    byte[] key = Files.readAllBytes(file);
    try {
      return PickleKey.fromBytes(key);
    } catch (PickleKeyException e) {
      throw new PickleKeyException(
          "pickle key file "
              + file
              + ": "
              + e.getMessage()
              + "; replace the file (it is not a key this library made)");
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  private static void create(Path file, SecureRandom random) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    boolean posix = posix(existingAncestor(dir));
    // Refuse before writing anything: in a directory others can write, they could swap the new key.
    PickleKeyFileChecks.checkDirectories(file, existingAncestor(dir));
    if (!Files.exists(dir)) {
      if (posix) {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectories(dir);
      }
    }
    FileAttribute<?>[] attrs =
        posix
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp", attrs);
    byte[] key = new byte[PickleKey.LENGTH];
    try {
      random.nextBytes(key);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(key);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException e) {
        // Another process created the key first; read() uses theirs.
      } catch (UnsupportedOperationException e) {
        try {
          Files.move(tmp, file);
        } catch (FileAlreadyExistsException raced) {
          // Another process created the key first; read() uses theirs.
        }
      }
      syncDirectory(dir);
    } finally {
      Arrays.fill(key, (byte) 0);
      try {
        Files.deleteIfExists(tmp);
      } catch (NoSuchFileException e) {
        // Moved into place.
      }
    }
  }

  private static Path existingAncestor(Path dir) {
    Path p = dir;
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    return p == null ? dir.getRoot() : p;
  }

  private static boolean posix(Path p) throws IOException {
    return Files.getFileStore(Files.exists(p) ? p : existingAncestor(p))
        .supportsFileAttributeView(PosixFileAttributeView.class);
  }

  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Not possible on every platform; the key file itself is already fsynced.
    }
  }
}
