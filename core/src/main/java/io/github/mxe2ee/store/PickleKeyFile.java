package io.github.mxe2ee.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
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
    Set<PosixFilePermission> open = OwnerOnlyFile.tooOpen(file);
    if (open != null) {
      throw new PickleKeyException(OwnerOnlyFile.tooOpenMessage("pickle key file", file, open));
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
    boolean posix = OwnerOnlyFile.posix(dir);
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
    byte[] key = new byte[PickleKey.LENGTH];
    try {
      random.nextBytes(key);
      // If another process created the key first, read() uses theirs.
      OwnerOnlyFile.create(file, key);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  private static Path existingAncestor(Path dir) {
    Path p = dir;
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    return p == null ? dir.getRoot() : p;
  }
}
