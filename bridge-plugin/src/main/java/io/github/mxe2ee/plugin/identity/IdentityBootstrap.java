package io.github.mxe2ee.plugin.identity;

import io.github.mxe2ee.machine.IdentityStep;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Drives {@link OlmMachine#bootstrapIdentity} against the homeserver at start (docs/IDENTITY.md):
 * loads or creates the recovery key file, has each step's requests sent through the plugin's
 * request pump (which uploads the cross-signing keys through {@link
 * HomeserverClient#requestWithPasswordUia} with the configured account password) until the machine
 * reports the identity done or refused.
 *
 * <p>Machine calls run on the plugin's single worker, HTTP on the event loop. The recovery key and
 * the password are never logged. Used by the plugin's implementation; not a stable API.
 */
public final class IdentityBootstrap {
  private static final System.Logger LOG = System.getLogger(IdentityBootstrap.class.getName());

  /**
   * Most steps one bootstrap takes: it needs at most 6 (read twice, write the key, write secrets,
   * upload, sign); more means the machine and server disagree in a loop, which is reported.
   */
  public static final int MAX_STEPS = 12;

  private final WorkerExecutor worker;
  private final Function<OutgoingRequest, Future<Void>> send;
  private final OlmMachine machine;

  private IdentityBootstrap(
      WorkerExecutor worker, Function<OutgoingRequest, Future<Void>> send, OlmMachine machine) {
    this.worker = worker;
    this.send = send;
    this.machine = machine;
  }

  /**
   * Bootstraps or restores the identity if {@code options} names a recovery key file; otherwise
   * does nothing.
   *
   * @param send sends one request of the machine and feeds its answer back (the plugin's request
   *     pump, which answers the user-interactive auth of the key upload with the account's
   *     password)
   * @return a future that fails with {@link IdentityException} if the machine refused (for example,
   *     the server has another identity this recovery key cannot restore) or a request failed; a
   *     recovery key file created by this call is removed again on such a failure
   */
  public static Future<Void> runIfConfigured(
      WorkerExecutor worker,
      Function<OutgoingRequest, Future<Void>> send,
      OlmMachine machine,
      E2eeOptions options) {
    if (options.getRecoveryKeyFile() == null) {
      return Future.succeededFuture();
    }
    Path file = Path.of(options.getRecoveryKeyFile());
    IdentityBootstrap run = new IdentityBootstrap(worker, send, machine);
    return worker
        .executeBlocking(() -> RecoveryKeyFile.loadOrCreate(file, new SecureRandom()), true)
        .compose(loaded -> run.step(loaded, 0).onSuccess(done -> log(done, file, loaded.created())))
        .mapEmpty();
  }

  private Future<IdentityStep.Done> step(RecoveryKeyFile.Loaded loaded, int n) {
    if (n >= MAX_STEPS) {
      return Future.failedFuture(
          new IdentityException("identity bootstrap did not finish in " + MAX_STEPS + " steps"));
    }
    return worker
        .executeBlocking(() -> machine.bootstrapIdentity(loaded.key()), true)
        .compose(
            next -> {
              if (next instanceof IdentityStep.Send send) {
                List<Future<Void>> all = new ArrayList<>();
                send.requests().forEach(r -> all.add(this.send.apply(r)));
                return Future.join(all).compose(v -> step(loaded, n + 1));
              }
              if (next instanceof IdentityStep.Refused refused) {
                return Future.failedFuture(new IdentityException(refused.reason()));
              }
              return Future.succeededFuture((IdentityStep.Done) next);
            });
  }

  private static void log(IdentityStep.Done done, Path file, boolean created) {
    LOG.log(
        System.Logger.Level.INFO,
        "cross-signing identity ready: master key {0} ({1})",
        done.masterKey(),
        done.source());
    if (created) {
      LOG.log(
          System.Logger.Level.INFO,
          "new recovery key written to {0}: keep a copy somewhere safe; with it a new device or a"
              + " lost store restores this identity",
          file);
    }
  }
}
