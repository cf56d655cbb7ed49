package io.github.mxe2ee.plugin.impl;

import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.http.Retrier;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends what the machine asks for and feeds the answers back (ARCHITECTURE.md, "A request pump
 * drains outgoingRequests() through the Vert.x Web Client"). Machine calls run on the worker; HTTP
 * runs on the event loop. A failed request is reported to the machine, which produces it again
 * later where that makes sense.
 */
final class RequestPump implements io.github.mxe2ee.plugin.send.RoomSender.Requests {
  private static final System.Logger LOG = System.getLogger(RequestPump.class.getName());

  private final WorkerExecutor worker;
  private final HomeserverClient client;
  private final OlmMachine machine;
  private final int maxRounds;
  private final Retrier retrier;
  private final String uiaPassword;

  /** Requests being sent (by any drain) to the future that completes once fed back. */
  private final Map<String, Future<Void>> inFlight = new ConcurrentHashMap<>();

  /**
   * @param retrier retries each request's rate limits and transient failures (every request the
   *     machine makes is safe to repeat: to-device and send requests carry a fixed transaction id,
   *     uploads and queries are idempotent, a repeated claim only uses up another one-time key)
   * @param uiaPassword the account's password for the user-interactive auth of a cross-signing key
   *     upload ({@link HomeserverClient#requestWithPasswordUia}), or null; never logged
   */
  RequestPump(
      WorkerExecutor worker,
      HomeserverClient client,
      OlmMachine machine,
      int maxRounds,
      Retrier retrier,
      String uiaPassword) {
    this.worker = worker;
    this.client = client;
    this.machine = machine;
    this.maxRounds = maxRounds;
    this.retrier = retrier;
    this.uiaPassword = uiaPassword;
  }

  /**
   * Sends rounds of requests until the machine has nothing new or the round cap is reached. A
   * request that another drain already sends (the sync loop's and a send's drains run side by side)
   * is waited for, not skipped: when this returns, every request the machine asked for when it was
   * called has been answered and fed back, so a caller can rely on its effects (the devices of a
   * user just tracked are known before the room key is shared).
   */
  @Override
  public Future<Void> drain() {
    return round(0);
  }

  private Future<Void> round(int n) {
    if (n >= maxRounds) {
      return Future.succeededFuture();
    }
    return worker
        .executeBlocking(machine::outgoingRequests, true)
        .compose(
            requests -> {
              List<Future<Void>> waits = new ArrayList<>();
              for (OutgoingRequest r : requests) {
                Promise<Void> mine = Promise.promise();
                Future<Void> running = inFlight.putIfAbsent(r.requestId(), mine.future());
                if (running == null) {
                  send(r)
                      .onComplete(
                          ar -> {
                            inFlight.remove(r.requestId());
                            mine.handle(ar);
                          });
                  running = mine.future();
                }
                waits.add(running);
              }
              if (waits.isEmpty()) {
                return Future.succeededFuture();
              }
              return Future.join(waits).transform(ar -> round(n + 1));
            });
  }

  /** Sends {@code requests} (in parallel) and feeds each answer back. */
  @Override
  public Future<Void> sendAll(List<OutgoingRequest> requests) {
    List<Future<Void>> all = new ArrayList<>();
    for (OutgoingRequest r : requests) {
      all.add(send(r));
    }
    return Future.join(all).mapEmpty();
  }

  /**
   * Sends one request (retried by the {@link Retrier}) and feeds the answer, or the failure with
   * its status and {@code errcode}, back to the machine; completes once fed back. Every request of
   * the machine goes through here: the drains', the room sender's and the identity and key backup
   * bootstraps'. A cross-signing key upload answers the server's user-interactive auth with the
   * account's password.
   */
  Future<Void> send(OutgoingRequest r) {
    io.vertx.core.json.JsonObject body =
        r.method().equals("GET") ? null : new io.vertx.core.json.JsonObject(r.bodyJson());
    return retrier
        .run(
            r.type().name(),
            () ->
                r.type() == RequestType.SIGNING_KEYS_UPLOAD
                    ? client.requestWithPasswordUia(r.method(), r.path(), body, uiaPassword)
                    : client.request(r.method(), r.path(), body))
        .transform(
            ar -> {
              if (ar.succeeded()) {
                return worker.executeBlocking(
                    () -> {
                      com.fasterxml.jackson.databind.node.ObjectNode response;
                      try {
                        response = Json.toNode(ar.result());
                      } catch (IllegalArgumentException overLimits) {
                        LOG.log(
                            System.Logger.Level.WARNING,
                            "{0} {1}: response over the JSON limits, treated as failed",
                            r.type(),
                            r.requestId());
                        machine.markRequestAsFailed(r.requestId(), r.type(), 0, null);
                        return null;
                      }
                      machine.markRequestAsSent(r.requestId(), r.type(), response);
                      return null;
                    },
                    true);
              }
              int status = ar.cause() instanceof HomeserverException h ? h.statusCode() : 0;
              // A 404 of a read of account data or of the backup version means "none yet": the
              // bootstraps expect it on a first start.
              boolean absent =
                  status == 404
                      && (r.type() == RequestType.ACCOUNT_DATA_GET
                          || r.type() == RequestType.BACKUP_VERSION_GET);
              LOG.log(
                  absent ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                  "{0} {1} failed: {2}",
                  r.type(),
                  r.requestId(),
                  ar.cause().getMessage());
              com.fasterxml.jackson.databind.node.ObjectNode error =
                  com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
              if (ar.cause() instanceof HomeserverException h && h.errcode() != null) {
                // The machine acts on some codes (M_WRONG_ROOM_KEYS_VERSION disables backup).
                error.put("errcode", h.errcode());
              }
              error.put("error", String.valueOf(ar.cause().getMessage()));
              return worker.executeBlocking(
                  () -> {
                    machine.markRequestAsFailed(r.requestId(), r.type(), status, error);
                    return null;
                  },
                  true);
            })
        .mapEmpty();
  }
}
