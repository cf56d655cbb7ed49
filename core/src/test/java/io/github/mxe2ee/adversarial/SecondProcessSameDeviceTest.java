package io.github.mxe2ee.adversarial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.StoreException;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Careless operator (issue 10, item 5): a second bot process started on the same SQLite store and
 * device (a restart script that does not wait, a second container on one volume) used to run
 * alongside the first, both answering every message and racing on one Olm account. The store now
 * holds an exclusive lock per (store file, account) for its life, in this JVM and across processes;
 * other devices still share the file.
 */
class SecondProcessSameDeviceTest {
  private static final AccountId BOT = AccountId.of("@bot:example.org", "BOTDEVICE");
  private static final AccountId OTHER = AccountId.of("@bot:example.org", "OTHERDEVICE");

  /** Upper bound for a child JVM to start and answer. */
  private static final long CHILD_TIMEOUT_S = 60;

  @TempDir Path dir;

  private Path db() {
    return dir.resolve("crypto.db");
  }

  private static void assertRefusedForDevice(String message) {
    assertTrue(message.contains("BOTDEVICE"), message);
    assertTrue(message.contains("another"), message);
    assertTrue(message.contains(" stop "), "says how to fix it: " + message);
  }

  @Test
  void secondOpenInOneJvm_isRefused_otherDeviceShares_andCloseReleases() {
    CryptoStore first = SqliteCryptoStore.open(db(), BOT);
    try {
      StoreException e =
          assertThrows(StoreException.class, () -> SqliteCryptoStore.open(db(), BOT).close());
      assertEquals(StoreException.Reason.LOCKED, e.reason());
      assertRefusedForDevice(e.getMessage());
      // The same file through another path spelling is the same store.
      Path other = dir.resolve("sub/../crypto.db");
      assertThrows(StoreException.class, () -> SqliteCryptoStore.open(other, BOT).close());
      try (CryptoStore second = SqliteCryptoStore.open(db(), OTHER)) {
        second.save(new Changes().putSyncToken("other"));
      }
      first.save(new Changes().putSyncToken("first"));
    } finally {
      first.close();
    }
    try (CryptoStore again = SqliteCryptoStore.open(db(), BOT)) {
      assertEquals(Optional.of("first"), again.syncToken());
    }
  }

  /** A child JVM running {@link StoreLockChild}; {@link #close()} ends it. */
  private static final class Child implements AutoCloseable {
    final Process process;
    final String firstLine;

    Child(Path db, AccountId id) throws Exception {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb =
          new ProcessBuilder(
              java,
              "-XX:TieredStopAtLevel=1",
              "-XX:+UseSerialGC",
              "-Xmx64m",
              "-cp",
              System.getProperty("java.class.path"),
              StoreLockChild.class.getName(),
              db.toString(),
              id.userId(),
              id.deviceId());
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      process = pb.start();
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      firstLine = line == null ? "EXITED " + process.waitFor() : line;
    }

    @Override
    public void close() throws Exception {
      process.getOutputStream().close();
      if (!process.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void secondProcessOnSameDevice_isRefused_whileOtherDevicesShareTheFile() throws Exception {
    try (CryptoStore parent = SqliteCryptoStore.open(db(), BOT)) {
      parent.save(new Changes().putSyncToken("parent"));
      try (Child same = new Child(db(), BOT)) {
        assertTrue(same.firstLine.startsWith("REFUSED LOCKED "), same.firstLine);
        assertRefusedForDevice(same.firstLine);
      }
      try (Child other = new Child(db(), OTHER)) {
        assertEquals("OPENED", other.firstLine, "another device shares the file");
      }
    }
    // The child holds the device now; this process is the second one.
    try (Child holder = new Child(db(), BOT)) {
      assertEquals("OPENED", holder.firstLine);
      StoreException e =
          assertThrows(StoreException.class, () -> SqliteCryptoStore.open(db(), BOT).close());
      assertEquals(StoreException.Reason.LOCKED, e.reason());
      assertRefusedForDevice(e.getMessage());
    }
    // A process that ends (here: closes; a crash releases the same way) frees the device.
    try (CryptoStore after = SqliteCryptoStore.open(db(), BOT)) {
      assertEquals(Optional.of("child"), after.syncToken());
    }
  }

  @Test
  void killedHolder_releasesTheDevice() throws Exception {
    Child holder = new Child(db(), BOT);
    assertEquals("OPENED", holder.firstLine);
    holder.process.destroyForcibly();
    holder.process.waitFor(CHILD_TIMEOUT_S, TimeUnit.SECONDS);
    try (CryptoStore after = SqliteCryptoStore.open(db(), BOT)) {
      assertEquals(Optional.of("child"), after.syncToken());
    }
  }
}
