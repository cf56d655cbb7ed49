package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mxe2ee.store.PickleKey;
import io.github.mxe2ee.store.PickleKeyException;
import io.github.mxe2ee.store.PickleKeySource;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Careless operator (issue 10, item 5): a pickle key that is no secret, or a key file another local
 * user could have written or replaced, protects nothing. Each is refused with a message that names
 * the file (or source) and the fix, never the key.
 */
class PickleKeyFileHardeningTest {
  private static final byte[] KEY = new byte[32];

  static {
    for (int i = 0; i < 32; i++) {
      KEY[i] = (byte) (0x40 + i);
    }
  }

  private static final String KEY_B64 = Base64.getEncoder().encodeToString(KEY);
  private static final String ZERO_B64 = Base64.getEncoder().encodeToString(new byte[32]);

  @TempDir Path dir;

  private final SecureRandom random = new SecureRandom();

  @BeforeEach
  void posixOnly() {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
  }

  private static void assertSafeMessage(PickleKeyException e, String... mustContain) {
    String all = e.getMessage() + " " + e;
    assertFalse(all.contains(KEY_B64), "leaks the key: " + all);
    for (String s : mustContain) {
      assertTrue(all.contains(s), "expected '" + s + "' in: " + all);
    }
  }

  private Path keyFile(Path parent, byte[] key) throws Exception {
    Files.createDirectories(parent);
    Path file = parent.resolve("pickle.key");
    Files.write(file, key);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @Test
  void allZeroKey_isRefusedFromEverySource() throws Exception {
    PickleKeyException e =
        assertThrows(PickleKeyException.class, () -> PickleKeySource.ofBytes(new byte[32]));
    assertSafeMessage(e, "all zero");
    e = assertThrows(PickleKeyException.class, () -> PickleKeySource.ofBase64(ZERO_B64));
    assertSafeMessage(e, "all zero", "configured pickle key");
    PickleKeySource env =
        PickleKeySource.fromEnvironment(Map.of(PickleKeySource.ENV_VARIABLE, ZERO_B64));
    e = assertThrows(PickleKeyException.class, env::load);
    assertSafeMessage(e, "all zero", PickleKeySource.ENV_VARIABLE);
    Path file = keyFile(dir.resolve("keys"), new byte[32]);
    e =
        assertThrows(
            PickleKeyException.class, () -> PickleKeySource.fromKeyFile(file, random).load());
    assertSafeMessage(e, "all zero", file.toString());
    e = assertThrows(PickleKeyException.class, () -> PickleKey.fromBytes(new byte[32]));
    assertSafeMessage(e, "all zero");
  }

  @Test
  void keyFileOwnedByAnotherUser_isRefused() throws Exception {
    Path file = keyFile(dir.resolve("keys"), KEY);
    UserPrincipal nobody;
    try {
      nobody =
          FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
      Files.setOwner(file, nobody);
    } catch (Exception e) {
      assumeTrue(false, "needs root to give a file away: " + e);
      return;
    }
    PickleKeyException e =
        assertThrows(
            PickleKeyException.class, () -> PickleKeySource.fromKeyFile(file, random).load());
    assertSafeMessage(e, file.toString(), "owned by", "chown");
  }

  @Test
  void worldWritableOrGroupReadableKeyFile_isRefused() throws Exception {
    Path file = keyFile(dir.resolve("keys"), KEY);
    for (String perms : new String[] {"rw----rw-", "rw-r-----", "rw--w----"}) {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
      PickleKeyException e =
          assertThrows(
              PickleKeyException.class, () -> PickleKeySource.fromKeyFile(file, random).load());
      assertSafeMessage(e, file.toString(), "chmod 600");
    }
  }

  @Test
  void keyFileInWorldOrGroupWritableDirectory_isRefused_existingOrNew() throws Exception {
    for (String perms : new String[] {"rwxrwxrwx", "rwxrwx---"}) {
      Path open = dir.resolve("open-" + perms.hashCode());
      Path file = keyFile(open, KEY);
      Files.setPosixFilePermissions(open, PosixFilePermissions.fromString(perms));
      PickleKeyException e =
          assertThrows(
              PickleKeyException.class, () -> PickleKeySource.fromKeyFile(file, random).load());
      assertSafeMessage(e, open.toString(), "writable by", "chmod");
      // Nor is a new key created there, where another user could swap it before we read it.
      Path fresh = open.resolve("new.key");
      e =
          assertThrows(
              PickleKeyException.class, () -> PickleKeySource.fromKeyFile(fresh, random).load());
      assertSafeMessage(e, open.toString());
      assertFalse(Files.exists(fresh), "no key was created in an unsafe directory");
    }
  }

  @Test
  void writableAncestorDirectory_isRefused() throws Exception {
    Path top = dir.resolve("shared");
    Path file = keyFile(top.resolve("bot"), KEY);
    Files.setPosixFilePermissions(top, PosixFilePermissions.fromString("rwxrwxrwx"));
    PickleKeyException e =
        assertThrows(
            PickleKeyException.class, () -> PickleKeySource.fromKeyFile(file, random).load());
    assertSafeMessage(e, top.toString(), "writable by");
  }

  @Test
  void stickyWorldWritableDirectory_likeTmp_isAcceptedForOurOwnFile() throws Exception {
    Path sticky = dir.resolve("sticky");
    Path file = keyFile(sticky, KEY);
    Files.setPosixFilePermissions(sticky, PosixFilePermissions.fromString("rwxrwxrwx"));
    Files.setAttribute(sticky, "unix:mode", 01777);
    assertArrayEquals(KEY, PickleKeySource.fromKeyFile(file, random).load().exposeSecretBytes());
  }

  @Test
  void safeKeyFile_stillLoads_andNewOneIsCreatedOwnerOnly() throws Exception {
    Path file = keyFile(dir.resolve("keys"), KEY);
    assertArrayEquals(KEY, PickleKeySource.fromKeyFile(file, random).load().exposeSecretBytes());
    Path fresh = dir.resolve("new/dir/pickle.key");
    byte[] made = PickleKeySource.fromKeyFile(fresh, random).load().exposeSecretBytes();
    assertEquals(32, made.length);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
  }
}
