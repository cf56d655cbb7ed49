package io.github.mxe2ee.plugin.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.BackupStep;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.identity.RecoveryKeyFile;
import io.github.mxe2ee.secrets.SecretStorageKey;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives {@link OlmMachine#bootstrapKeyBackup} against the homeserver at start, after the identity
 * bootstrap (docs/KEY_BACKUP.md): reads the recovery key file, sends each step's requests and feeds
 * the answers back, until the machine reports backup enabled or disabled. A disabled backup (a
 * version the bot cannot trust, a failed request) is logged with its reason and does not fail the
 * start: the bot works without a backup, and the next start tries again. Once enabled, uploads and
 * the restore of a lost store are requests of the machine, sent by the plugin's request pump.
 *
 * <p>Machine calls run on the plugin's single worker, HTTP on the event loop. The recovery key is
 * never logged. Used by the plugin's implementation; not a stable API.
 */
public final class KeyBackupBootstrap {
  private static final System.Logger LOG = System.getLogger(KeyBackupBootstrap.class.getName());
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * Most steps one run takes: it needs at most 5 (read, read the key description, decide, write the
   * secret, create); more means the machine and server disagree in a loop, which is reported.
   */
  public static final int MAX_STEPS = 10;

  private final WorkerExecutor worker;
  private final HomeserverClient client;
  private final OlmMachine machine;

  private KeyBackupBootstrap(WorkerExecutor worker, HomeserverClient client, OlmMachine machine) {
    this.worker = worker;
    this.client = client;
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
      WorkerExecutor worker, HomeserverClient client, OlmMachine machine, E2eeOptions options) {
    if (options.getRecoveryKeyFile() == null) {
      return Future.succeededFuture(null);
    }
    Path file = Path.of(options.getRecoveryKeyFile());
    KeyBackupBootstrap run = new KeyBackupBootstrap(worker, client, machine);
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
                send.requests().forEach(r -> all.add(send(r)));
                return Future.join(all).compose(v -> step(key, n + 1));
              }
              return Future.succeededFuture(next);
            });
  }

  private Future<Void> send(OutgoingRequest r) {
    Future<JsonObject> sent =
        r.method().equals("GET")
            ? client.request(r.method(), r.path(), null)
            : client.request(r.method(), r.path(), new JsonObject(r.bodyJson()));
    return sent.transform(
        ar ->
            worker.executeBlocking(
                () -> {
                  if (ar.succeeded()) {
                    machine.markRequestAsSent(r.requestId(), r.type(), toNode(ar.result()));
                    return null;
                  }
                  int status = ar.cause() instanceof HomeserverException h ? h.statusCode() : 0;
                  ObjectNode error = MAPPER.createObjectNode();
                  if (ar.cause() instanceof HomeserverException h && h.errcode() != null) {
                    error.put("errcode", h.errcode());
                  }
                  boolean absent =
                      status == 404
                          && (r.type() == RequestType.ACCOUNT_DATA_GET
                              || r.type() == RequestType.BACKUP_VERSION_GET);
                  if (!absent) {
                    LOG.log(
                        System.Logger.Level.WARNING,
                        "key backup bootstrap: {0} failed: {1}",
                        r.type(),
                        ar.cause().getMessage());
                  }
                  machine.markRequestAsFailed(r.requestId(), r.type(), status, error);
                  return null;
                },
                true));
  }

  private static JsonNode toNode(JsonObject json) {
    try {
      return MAPPER.readTree(json.encode());
    } catch (IOException e) {
      throw new IllegalStateException("Vert.x produced JSON Jackson cannot read", e);
    }
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
