package io.github.mxe2ee.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PickleKeySourceTest {
  private static final byte[] KEY = new byte[32];

  static {
    for (int i = 0; i < 32; i++) {
      KEY[i] = (byte) (0xA0 + i);
    }
  }

  private static final String KEY_B64 = Base64.getEncoder().encodeToString(KEY);

  @TempDir Path dir;

  private static void assertNoSecret(Throwable e, String secret) {
    String all = e.getMessage() + " " + e;
    assertFalse(all.contains(secret), "message leaks the key: " + all);
    assertEquals("pickle_key", ((PickleKeyException) e).kind());
  }

  @Test
  void configuredBytesAndBase64_yieldTheKey() {
    assertArrayEquals(KEY, PickleKeySource.ofBytes(KEY).load().exposeSecretBytes());
    assertArrayEquals(KEY, PickleKeySource.ofBase64(KEY_B64).load().exposeSecretBytes());
    String unpaddedUrlSafe = Base64.getUrlEncoder().withoutPadding().encodeToString(KEY);
    assertArrayEquals(KEY, PickleKeySource.ofBase64(unpaddedUrlSafe).load().exposeSecretBytes());
  }

  @Test
  void wrongLengthOrBadBase64_isRejectedWithoutEchoingInput() {
    PickleKeyException e =
        assertThrows(PickleKeyException.class, () -> PickleKeySource.ofBytes(new byte[31]));
    assertTrue(e.getMessage().contains("32 bytes, got 31"), e.getMessage());
    String shortKey = Base64.getEncoder().encodeToString(new byte[16]);
    e = assertThrows(PickleKeyException.class, () -> PickleKeySource.ofBase64(shortKey));
    assertTrue(e.getMessage().contains("got 16"), e.getMessage());
    String bad = "SECRET!!" + KEY_B64;
    e = assertThrows(PickleKeyException.class, () -> PickleKeySource.ofBase64(bad));
    assertNoSecret(e, "SECRET");
    assertNoSecret(e, KEY_B64);
  }

  @Test
  void environment_presentMissingAndMalformed() {
    Map<String, String> env = new HashMap<>();
    PickleKeySource src = PickleKeySource.fromEnvironment(env);
    PickleKeyException e = assertThrows(PickleKeyException.class, src::load);
    assertTrue(e.getMessage().contains("MXE2EE_PICKLE_KEY is not set"), e.getMessage());
    env.put("MXE2EE_PICKLE_KEY", KEY_B64);
    assertArrayEquals(KEY, src.load().exposeSecretBytes());
    env.put("MXE2EE_PICKLE_KEY", KEY_B64.substring(0, 20) + "*");
    e = assertThrows(PickleKeyException.class, src::load);
    assertNoSecret(e, KEY_B64.substring(0, 20));
    assertEquals("environment variable MXE2EE_PICKLE_KEY", src.describe());
  }

  @Test
  void keyFile_createdOwnerOnlyOnFirstStart_thenStable() throws Exception {
    Path file = dir.resolve("sub/dir/pickle.key");
    PickleKeySource src = PickleKeySource.fromKeyFile(file, new SecureRandom());
    byte[] first = src.load().exposeSecretBytes();
    assertEquals(32, Files.size(file));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    assertArrayEquals(first, Files.readAllBytes(file));
    assertArrayEquals(first, src.load().exposeSecretBytes());
    assertArrayEquals(
        first, PickleKeySource.fromKeyFile(file, new SecureRandom()).load().exposeSecretBytes());
    try (var files = Files.list(file.getParent())) {
      assertEquals(List.of(file), files.toList(), "no temporary files left behind");
    }
    byte[] other =
        PickleKeySource.fromKeyFile(dir.resolve("other.key"), new SecureRandom())
            .load()
            .exposeSecretBytes();
    assertFalse(java.util.Arrays.equals(first, other), "fresh keys are random");
  }

  @Test
  void keyFile_readableByOthers_isRefusedAndUntouched() throws Exception {
    Path file = dir.resolve("pickle.key");
    Files.write(file, KEY);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    PickleKeyException e =
        assertThrows(
            PickleKeyException.class,
            () -> PickleKeySource.fromKeyFile(file, new SecureRandom()).load());
    assertTrue(e.getMessage().contains("rw-r--r--"), e.getMessage());
    assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
    assertArrayEquals(KEY, Files.readAllBytes(file));

    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw--w----"));
    assertThrows(
        PickleKeyException.class,
        () -> PickleKeySource.fromKeyFile(file, new SecureRandom()).load());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
    assertArrayEquals(
        KEY, PickleKeySource.fromKeyFile(file, new SecureRandom()).load().exposeSecretBytes());
  }

  @Test
  void keyFile_wrongSize_isRefusedAndUntouched() throws Exception {
    Path file = dir.resolve("pickle.key");
    byte[] text = (KEY_B64 + "\n").getBytes();
    Files.write(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    PickleKeyException e =
        assertThrows(
            PickleKeyException.class,
            () -> PickleKeySource.fromKeyFile(file, new SecureRandom()).load());
    assertTrue(
        e.getMessage().contains(text.length + " bytes, expected exactly 32"), e.getMessage());
    assertNoSecret(e, KEY_B64);
    assertArrayEquals(text, Files.readAllBytes(file));

    Files.write(file, new byte[0]);
    assertThrows(
        PickleKeyException.class,
        () -> PickleKeySource.fromKeyFile(file, new SecureRandom()).load());
    assertEquals(0, Files.size(file), "an empty key file is never silently refilled");
  }

  @Test
  void keyFile_concurrentFirstStarts_agreeOnOneKey() throws Exception {
    Path file = dir.resolve("race.key");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<byte[]>> tasks = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        tasks.add(
            () -> PickleKeySource.fromKeyFile(file, new SecureRandom()).load().exposeSecretBytes());
      }
      byte[] onDisk = null;
      for (Future<byte[]> f : pool.invokeAll(tasks)) {
        byte[] k = f.get();
        onDisk = onDisk == null ? Files.readAllBytes(file) : onDisk;
        assertArrayEquals(onDisk, k);
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void standard_prefersConfigThenEnvironmentThenFile() {
    byte[] envKey = new byte[32];
    envKey[0] = 1;
    Map<String, String> env =
        Map.of("MXE2EE_PICKLE_KEY", Base64.getEncoder().encodeToString(envKey));
    Path file = dir.resolve("k");
    SecureRandom rnd = new SecureRandom();
    assertArrayEquals(
        KEY, PickleKeySource.standard(KEY_B64, env, file, rnd).load().exposeSecretBytes());
    assertArrayEquals(
        envKey, PickleKeySource.standard(null, env, file, rnd).load().exposeSecretBytes());
    assertFalse(Files.exists(file));
    PickleKeySource fromFile = PickleKeySource.standard(null, Map.of(), file, rnd);
    assertEquals("key file " + file, fromFile.describe());
    fromFile.load();
    assertTrue(Files.exists(file));
  }

  @Test
  void pickleKey_toStringIsRedacted_andExposeReturnsCopy() {
    PickleKey k = PickleKey.fromBytes(KEY);
    assertEquals("PickleKey[redacted]", k.toString());
    byte[] copy = k.exposeSecretBytes();
    copy[0] = 0;
    assertArrayEquals(KEY, k.exposeSecretBytes());
  }
}
