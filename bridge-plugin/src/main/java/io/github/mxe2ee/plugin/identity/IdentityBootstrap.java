package io.github.mxe2ee.plugin.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.IdentityStep;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.plugin.E2eeOptions;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives {@link OlmMachine#bootstrapIdentity} against the homeserver at start (docs/IDENTITY.md):
 * loads or creates the recovery key file, sends each step's requests (the cross-signing key upload
 * through {@link HomeserverClient#requestWithPasswordUia} with the configured account password) and
 * feeds the answers back, until the machine reports the identity done or refused.
 *
 * <p>Machine calls run on the plugin's single worker, HTTP on the event loop. The recovery key and
 * the password are never logged. Used by the plugin's implementation; not a stable API.
 */
public final class IdentityBootstrap {
  private static final System.Logger LOG = System.getLogger(IdentityBootstrap.class.getName());
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /**
   * Most steps one bootstrap takes: it needs at most 6 (read twice, write the key, write secrets,
   * upload, sign); more means the machine and server disagree in a loop, which is reported.
   */
  public static final int MAX_STEPS = 12;

  private final WorkerExecutor worker;
  private final HomeserverClient client;
  private final OlmMachine machine;
  private final String password;

  private IdentityBootstrap(
      WorkerExecutor worker, HomeserverClient client, OlmMachine machine, String password) {
    this.worker = worker;
    this.client = client;
    this.machine = machine;
    this.password = password;
  }

  /**
   * Bootstraps or restores the identity if {@code options} names a recovery key file; otherwise
   * does nothing.
   *
   * @return a future that fails with {@link IdentityException} if the machine refused (for example,
   *     the server has another identity this recovery key cannot restore) or a request failed; a
   *     recovery key file created by this call is removed again on such a failure
   */
  public static Future<Void> runIfConfigured(
      WorkerExecutor worker, HomeserverClient client, OlmMachine machine, E2eeOptions options) {
    if (options.getRecoveryKeyFile() == null) {
      return Future.succeededFuture();
    }
    Path file = Path.of(options.getRecoveryKeyFile());
    IdentityBootstrap run =
        new IdentityBootstrap(worker, client, machine, options.getAccountPassword());
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
                send.requests().forEach(r -> all.add(send(r)));
                return Future.join(all).compose(v -> step(loaded, n + 1));
              }
              if (next instanceof IdentityStep.Refused refused) {
                return Future.failedFuture(new IdentityException(refused.reason()));
              }
              return Future.succeededFuture((IdentityStep.Done) next);
            });
  }

  private Future<Void> send(OutgoingRequest r) {
    JsonObject body = new JsonObject(r.bodyJson());
    Future<JsonObject> sent =
        switch (r.type()) {
            // TODO(MSC4190): an appservice whose registration enables MSC4190 may upload without
            // UIA; with an appservice session, no password is needed and none is sent.
          case SIGNING_KEYS_UPLOAD ->
              client.requestWithPasswordUia(r.method(), r.path(), body, password);
          case ACCOUNT_DATA_GET -> client.request(r.method(), r.path(), null);
          default -> client.request(r.method(), r.path(), body);
        };
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
                  error.put("error", String.valueOf(ar.cause().getMessage()));
                  if (r.type() != RequestType.ACCOUNT_DATA_GET || status != 404) {
                    LOG.log(
                        System.Logger.Level.WARNING,
                        "identity bootstrap: {0} failed: {1}",
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
