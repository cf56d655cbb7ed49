package io.github.mxe2ee.store.sqlite;

import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.StoreException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;

/**
 * The exclusive claim of one account (user, device) on one SQLite store file, held for the life of
 * the store so that a second process or a second store instance on the same device is refused (the
 * SQLite counterpart of the PostgreSQL store's advisory lock). Not API.
 *
 * <pre>
 * &lt;db&gt;.lock   one per store file, created 0600, never deleted (deleting it would let a second
 *              process lock a new file while the first still holds the old one)
 * byte range  [offset, offset + 1) with offset = first 62 bits of
 *             SHA-256(user id || 0x00 || device id): one byte per account, so the devices of one
 *             file (a bridge's ghosts, several bots) lock independently
 * </pre>
 *
 * <p>Operating-system record locks ({@code fcntl} on Unix, {@code LockFileEx} on Windows) belong to
 * a process and are released when it exits or dies, so a crashed bot never leaves its device
 * locked. Within one JVM they do not exclude each other, and on Unix closing any descriptor of the
 * file drops all of the process's locks on it; hence this class keeps one channel per lock file for
 * the whole JVM, and a table of the accounts it holds, and closes the channel only when it holds no
 * lock any more. Record locks on network file systems are only as good as the server's lock
 * manager.
 *
 * <p>Thread-safe.
 */
final class SqliteAccountLock {
  /** Suffix of the lock file beside the database. */
  static final String SUFFIX = ".lock";

  /** Keeps offsets non-negative with room for the one-byte range, as {@code FileChannel} needs. */
  private static final long OFFSET_MASK = (1L << 62) - 1;

  /** Open lock files of this JVM by real path, with the locks held through each. */
  private static final Map<Path, Holder> HOLDERS = new HashMap<>();

  private static final class Holder {
    final FileChannel channel;
    final Map<AccountId, FileLock> locks = new HashMap<>();

    Holder(FileChannel channel) {
      this.channel = channel;
    }
  }

  private final Path lockFile;
  private final AccountId account;
  private boolean released;

  private SqliteAccountLock(Path lockFile, AccountId account) {
    this.lockFile = lockFile;
    this.account = account;
  }

  /**
   * Takes the lock of {@code account} on the store {@code db} (an existing file, given by its real
   * path), creating {@code <db>.lock} (0600) if needed; does not wait.
   *
   * @throws StoreException LOCKED if another process, or another open store in this JVM, holds it;
   *     IO if the lock file cannot be created or locked
   */
  static SqliteAccountLock acquire(Path db, AccountId account) {
    Path file = db.resolveSibling(db.getFileName() + SUFFIX);
    long offset = offset(account);
    synchronized (HOLDERS) {
      Holder holder = HOLDERS.get(file);
      boolean opened = false;
      try {
        if (holder == null) {
          SqliteFiles.createOwnerOnly(file);
          holder = new Holder(FileChannel.open(file, StandardOpenOption.WRITE));
          opened = true;
        }
        if (holder.locks.containsKey(account)) {
          throw locked(db, account, "another store instance in this process");
        }
        FileLock lock;
        try {
          lock = holder.channel.tryLock(offset, 1, false);
        } catch (OverlappingFileLockException e) {
          // Only a hash collision with another account of this JVM can overlap: treat as held.
          lock = null;
        }
        if (lock == null) {
          throw locked(db, account, "another process");
        }
        holder.locks.put(account, lock);
        HOLDERS.put(file, holder);
        return new SqliteAccountLock(file, account);
      } catch (IOException e) {
        throw new StoreException(
            StoreException.Reason.IO,
            "cannot lock device " + account + " in crypto store " + db + ": " + e,
            e);
      } finally {
        if (opened && holder.locks.isEmpty()) {
          closeQuietly(holder.channel);
        }
      }
    }
  }

  /** Releases the lock; idempotent. */
  void release() {
    synchronized (HOLDERS) {
      if (released) {
        return;
      }
      released = true;
      Holder holder = HOLDERS.get(lockFile);
      if (holder == null) {
        return;
      }
      FileLock lock = holder.locks.remove(account);
      try {
        if (lock != null && lock.isValid()) {
          lock.release();
        }
      } catch (IOException e) {
        // Closing the channel below (or the process ending) releases it as well.
      }
      if (holder.locks.isEmpty()) {
        HOLDERS.remove(lockFile);
        closeQuietly(holder.channel);
      }
    }
  }

  private static StoreException locked(Path db, AccountId account, String holder) {
    return new StoreException(
        StoreException.Reason.LOCKED,
        "device "
            + account.deviceId()
            + " of "
            + account.userId()
            + " in crypto store "
            + db
            + " is already in use by "
            + holder
            + ": two processes on one device would both answer every message and race on one"
            + " Olm account; stop the other bot process (or close the other store) first; to run"
            + " several bots on this file, give each its own device id");
  }

  static long offset(AccountId account) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] digest =
          sha.digest(
              (account.userId() + "\0" + account.deviceId()).getBytes(StandardCharsets.UTF_8));
      long v = 0;
      for (int i = 0; i < 8; i++) {
        v = (v << 8) | (digest[i] & 0xff);
      }
      return v & OFFSET_MASK;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java platform", e);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // Nothing is written through this channel; a failed close loses nothing.
    }
  }
}
