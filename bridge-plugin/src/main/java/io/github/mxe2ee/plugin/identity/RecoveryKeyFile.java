package io.github.mxe2ee.plugin.identity;

import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.secrets.SecretStorageKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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
 * The file that holds the bot's recovery key (docs/IDENTITY.md): the secret storage key in its text
 * form (spec appendices, "Cryptographic key representation"; {@code
 * io.github.mxe2ee.crypto.KeyRepresentation}) and a newline. Created once, with permissions 0600
 * from the start (a temporary sibling, fsynced, hard-linked into place so that two processes never
 * both create one); a file that group or others may read or write is refused. On file systems
 * without POSIX permissions the checks are skipped.
 *
 * <p>Errors are {@link IdentityException}s naming the file, never its content.
 */
public final class RecoveryKeyFile {
  /** Any of these bits on the file is refused. */
  private static final Set<PosixFilePermission> FORBIDDEN =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  /** Longest file worth reading: the text form is under 70 characters. */
  private static final long MAX_SIZE = 1024;

  private RecoveryKeyFile() {}

  /** A recovery key and whether this call created its file. */
  public record Loaded(SecretStorageKey key, boolean created) {
    @Override
    public String toString() {
      return "RecoveryKeyFile.Loaded[created=" + created + "]";
    }
  }

  /**
   * Reads the key in {@code file}, creating the file with a new random key first if it is absent.
   *
   * @throws IdentityException if the file is not a regular file, is readable or writable by group
   *     or others, is too large, or does not hold a valid key
   */
  public static Loaded loadOrCreate(Path file, SecureRandom random) {
    try {
      boolean created = false;
      if (!Files.exists(file)) {
        created = create(file, random);
      }
      return new Loaded(read(file), created);
    } catch (IOException e) {
      throw new IdentityException(
          "cannot use recovery key file " + file + ": " + e.getClass().getSimpleName(), e);
    }
  }

  private static SecretStorageKey read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IdentityException("recovery key file " + file + " is not a regular file");
    }
    if (posix(file)) {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      Set<PosixFilePermission> bad = EnumSet.copyOf(FORBIDDEN);
      bad.retainAll(perms);
      if (!bad.isEmpty()) {
        throw new IdentityException(
            "recovery key file "
                + file
                + " has permissions "
                + PosixFilePermissions.toString(perms)
                + ", expected owner-only (rw-------); fix with: chmod 600 "
                + file);
      }
    }
    if (Files.size(file) > MAX_SIZE) {
      throw new IdentityException(
          "recovery key file " + file + " is larger than " + MAX_SIZE + " bytes");
    }
    byte[] bytes = Files.readAllBytes(file);
    try {
      return SecretStorageKey.fromKeyRepresentation(new String(bytes, StandardCharsets.UTF_8));
    } catch (DecodeException e) {
      // The decoder's messages never echo the input.
      throw new IdentityException(
          "recovery key file " + file + " does not hold a recovery key: " + e.getMessage());
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  /** Creates the file; false if another process created it first. */
  private static boolean create(Path file, SecureRandom random) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    boolean posix = posix(dir);
    FileAttribute<?>[] attrs =
        posix
            ? new FileAttribute<?>[] {
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
            }
            : new FileAttribute<?>[0];
    Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp", attrs);
    byte[] text =
        (SecretStorageKey.generate(random).exposeForPerson() + "\n")
            .getBytes(StandardCharsets.UTF_8);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(text);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      try {
        Files.createLink(file, tmp);
      } catch (FileAlreadyExistsException e) {
        return false;
      } catch (UnsupportedOperationException e) {
        try {
          Files.move(tmp, file);
        } catch (FileAlreadyExistsException raced) {
          return false;
        }
      }
      return true;
    } finally {
      Arrays.fill(text, (byte) 0);
      try {
        Files.deleteIfExists(tmp);
      } catch (NoSuchFileException e) {
        // moved into place
      }
    }
  }

  private static boolean posix(Path p) throws IOException {
    return Files.getFileStore(p).supportsFileAttributeView(PosixFileAttributeView.class);
  }
}
