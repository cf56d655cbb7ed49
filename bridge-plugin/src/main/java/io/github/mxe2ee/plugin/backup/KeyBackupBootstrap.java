package io.github.mxe2ee.plugin.backup;

import io.github.mxe2ee.machine.BackupStep;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.identity.RecoveryKeyFile;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Drives {@link OlmMachine#bootstrapKeyBackup} against the homeserver at start, after the identity
 * bootstrap (docs/KEY_BACKUP.md): reads the recovery key file, has each step's requests sent
 * through the plugin's request pump, until the machine reports backup enabled or disabled. A
 * disabled backup (a version the bot cannot trust, a failed request) is logged with its reason and
 * does not fail the start: the bot works without a backup, and the next start tries again. Once
 * enabled, uploads and the restore of a lost store are requests of the machine, sent by the
 * plugin's request pump.
 *
 * <p>Machine calls run on the plugin's single worker, HTTP on the event loop. The recovery key is
 * never logged. Used by the plugin's implementation; not a stable API.
 */
public final class KeyBackupBootstrap {
  private static final System.Logger LOG = System.getLogger(KeyBackupBootstrap.class.getName());

  /**
   * Most steps one run takes: it needs at most 5 (read, read the key description, decide, write the
   * secret, create); more means the machine and server disagree in a loop, which is reported.
   */
  public static final int MAX_STEPS = 10;

  private final WorkerExecutor worker;
  private final Function<OutgoingRequest, Future<Void>> send;
  private final OlmMachine machine;

  private KeyBackupBootstrap(
      WorkerExecutor worker, Function<OutgoingRequest, Future<Void>> send, OlmMachine machine) {
    this.worker = worker;
    this.send = send;
    this.machine = machine;
  }

  /**
   * Turns key backup on if {@code options} names a recovery key file (the identity bootstrap, run
   * before, created it); otherwise does nothing.
   *
   * @return the step the run ended with ({@link BackupStep.Enabled} or {@link
   *     BackupStep.Disabled}), or null if no recovery key file is configured; fails only if the
   *     recovery key file cannot be read or the machine fails
   */
  public static Future<BackupStep> runIfConfigured(
      WorkerExecutor worker,
      Function<OutgoingRequest, Future<Void>> send,
      OlmMachine machine,
      E2eeOptions options) {
    if (options.getRecoveryKeyFile() == null) {
      return Future.succeededFuture(null);
    }
    Path file = Path.of(options.getRecoveryKeyFile());
    KeyBackupBootstrap run = new KeyBackupBootstrap(worker, send, machine);
    return worker
        .executeBlocking(() -> RecoveryKeyFile.loadOrCreate(file, new SecureRandom()).key(), true)
        .compose(key -> run.step(key, 0))
        .onSuccess(KeyBackupBootstrap::log);
  }

  private Future<BackupStep> step(SecretStorageKey key, int n) {
    if (n >= MAX_STEPS) {
      return Future.succeededFuture(
          new BackupStep.Disabled(
              "key backup bootstrap did not finish in " + MAX_STEPS + " steps"));
    }
    return worker
        .executeBlocking(() -> machine.bootstrapKeyBackup(key), true)
        .compose(
            next -> {
              if (next instanceof BackupStep.Send send) {
                List<Future<Void>> all = new ArrayList<>();
                send.requests().forEach(r -> all.add(this.send.apply(r)));
                return Future.join(all).compose(v -> step(key, n + 1));
              }
              return Future.succeededFuture(next);
            });
  }

  private static void log(BackupStep end) {
    if (end instanceof BackupStep.Enabled on) {
      LOG.log(
          System.Logger.Level.INFO,
          "key backup on: room keys go to backup version {0} ({1})",
          on.version(),
          on.created() ? "created" : "existing, signed by our identity");
    } else if (end instanceof BackupStep.Disabled off) {
      LOG.log(System.Logger.Level.WARNING, "key backup off: {0}", off.reason());
    }
  }
}
