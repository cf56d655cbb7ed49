package io.github.mxe2ee.plugin.identity;

import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.github.mxe2ee.store.OwnerOnlyFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Arrays;
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
    Set<PosixFilePermission> open = OwnerOnlyFile.tooOpen(file);
    if (open != null) {
      throw new IdentityException(OwnerOnlyFile.tooOpenMessage("recovery key file", file, open));
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
    Files.createDirectories(file.toAbsolutePath().getParent());
    byte[] text =
        (SecretStorageKey.generate(random).exposeForPerson() + "\n")
            .getBytes(StandardCharsets.UTF_8);
    try {
      return OwnerOnlyFile.create(file, text);
    } finally {
      Arrays.fill(text, (byte) 0);
    }
  }
}
