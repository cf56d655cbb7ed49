package io.github.mxe2ee.plugin.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.secrets.SecretStorageKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link RecoveryKeyFile}: created once and owner-only, refused when others may read it. */
class RecoveryKeyFileTest {
  @TempDir Path dir;

  @Test
  void createdOnce_ownerOnly_andReadBackAsTheSameKey() throws Exception {
    Path file = dir.resolve("sub/bot.recovery-key");
    RecoveryKeyFile.Loaded first = RecoveryKeyFile.loadOrCreate(file, new SecureRandom());
    assertTrue(first.created());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    RecoveryKeyFile.Loaded again = RecoveryKeyFile.loadOrCreate(file, new SecureRandom());
    assertFalse(again.created());
    assertArrayEquals(first.key().exposeSecretBytes(), again.key().exposeSecretBytes());
    assertEquals(first.key().exposeForPerson() + "\n", Files.readString(file));
    assertFalse(first.toString().contains(first.key().exposeForPerson()));
  }

  @Test
  void groupOrWorldReadableFile_isRefused_withoutEchoingTheKey() throws Exception {
    Path file = dir.resolve("bot.recovery-key");
    String text = SecretStorageKey.generate(new SecureRandom()).exposeForPerson();
    for (String perms : new String[] {"rw-r-----", "rw----r--", "rw-rw----"}) {
      Files.deleteIfExists(file);
      Files.writeString(file, text);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
      IdentityException e =
          assertThrows(
              IdentityException.class,
              () -> RecoveryKeyFile.loadOrCreate(file, new SecureRandom()));
      assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
      assertFalse(e.getMessage().contains(text.substring(0, 9)));
    }
  }

  @Test
  void fileWithoutAKey_isRefused_withoutEchoingItsContent() throws Exception {
    Path file = dir.resolve("bot.recovery-key");
    Files.writeString(file, "EsTc notAKey9 secretish");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    IdentityException e =
        assertThrows(
            IdentityException.class, () -> RecoveryKeyFile.loadOrCreate(file, new SecureRandom()));
    assertFalse(e.getMessage().contains("secretish"), e.getMessage());
  }
}
