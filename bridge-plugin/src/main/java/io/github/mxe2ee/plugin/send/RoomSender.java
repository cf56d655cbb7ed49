package io.github.mxe2ee.plugin.send;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.UnencryptedRoomException;
import io.github.mxe2ee.plugin.http.Retrier;
import io.github.mxe2ee.plugin.http.RetryPolicy;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * Encrypts and sends room events for {@link io.github.mxe2ee.plugin.MatrixE2ee} (issue 12 item 4).
 * Each call is a job of the room's {@link RoomSendQueue}: one at a time per room, in call order. An
 * encrypted job:
 *
 * <ol>
 *   <li>learns the room's members ({@link RoomMembers}; one {@code GET /members} the first time),
 *       and shares the key with the joined and, unless the history visibility is {@code joined},
 *       invited members: tracks them, sends the {@code /keys/query} the machine asks for, claims
 *       one-time keys for devices without an Olm session, sends the room key to the devices that do
 *       not have it. A later job finds them all served and sends nothing;
 *   <li>encrypts with the transaction id ({@link OlmMachine#encryptRoomEvent(String, String,
 *       ObjectNode, String)}): one transaction id has one ciphertext, saved before it leaves;
 *   <li>{@code PUT}s it, retried by the {@link Retrier} with the same transaction id and the same
 *       ciphertext; once answered (or refused for good) the saved ciphertext is forgotten.
 * </ol>
 *
 * Thread-safe: state lives in the queue, the members and the machine (behind the worker).
 */
public final class RoomSender {

  /** Runs a machine call on the plugin's single worker, failing if the plugin is closed. */
  public interface Worker {
    /**
     * @param what names the caller in the failure of a closed plugin
     */
    <T> Future<T> call(String what, Callable<T> call);
  }

  /** Sends the machine's requests (the plugin's request pump). */
  public interface Requests {
    /** Sends rounds of {@link OlmMachine#outgoingRequests()} until nothing new is asked. */
    Future<Void> drain();

    /** Sends these requests and feeds the answers back. */
    Future<Void> sendAll(List<OutgoingRequest> requests);
  }

  private static final System.Logger LOG = System.getLogger(RoomSender.class.getName());

  private final HomeserverClient client;
  private final Retrier retrier;
  private final Worker worker;
  private final Requests requests;
  private final OlmMachine machine;
  private final RoomMembers members;
  private final RoomSendQueue queue = new RoomSendQueue();
  private final boolean refuseUnencrypted;
  private final Function<JsonObject, ObjectNode> toNode;

  /**
   * @param members the member lists; the plugin feeds it the sync's {@code m.room.member} events
   * @param refuseUnencrypted whether a send to an unencrypted room fails instead of going out plain
   * @param toNode converts event content to the core's JSON within its bounds, throwing {@link
   *     IllegalArgumentException} past them
   */
  public RoomSender(
      HomeserverClient client,
      Retrier retrier,
      Worker worker,
      Requests requests,
      OlmMachine machine,
      RoomMembers members,
      boolean refuseUnencrypted,
      Function<JsonObject, ObjectNode> toNode) {
    this.client = Objects.requireNonNull(client, "client");
    this.retrier = Objects.requireNonNull(retrier, "retrier");
    this.worker = Objects.requireNonNull(worker, "worker");
    this.requests = Objects.requireNonNull(requests, "requests");
    this.machine = Objects.requireNonNull(machine, "machine");
    this.members = Objects.requireNonNull(members, "members");
    this.refuseUnencrypted = refuseUnencrypted;
    this.toNode = Objects.requireNonNull(toNode, "toNode");
  }

  /** See {@link io.github.mxe2ee.plugin.MatrixE2ee#encrypt}. */
  public Future<JsonObject> encrypt(String roomId, String type, JsonObject content) {
    ObjectNode node;
    try {
      node = toNode.apply(content);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return queue.submit(
        roomId,
        () ->
            shareRoomKey(roomId)
                .compose(
                    v ->
                        worker.call(
                            "encrypt()",
                            () -> toVertx(machine.encryptRoomEvent(roomId, type, node)))));
  }

  /** See {@link io.github.mxe2ee.plugin.MatrixE2ee#send(String, String, JsonObject, String)}. */
  public Future<String> send(String roomId, String type, JsonObject content, String txnId) {
    ObjectNode node;
    try {
      node = toNode.apply(content);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return queue.submit(
        roomId,
        () ->
            isEncrypted(roomId)
                .compose(
                    encrypted -> {
                      if (encrypted) {
                        return sendEncrypted(roomId, type, node, txnId);
                      }
                      if (refuseUnencrypted) {
                        return Future.failedFuture(new UnencryptedRoomException(roomId));
                      }
                      return put(roomId, type, txnId, content.copy());
                    }));
  }

  private Future<String> sendEncrypted(String roomId, String type, ObjectNode node, String txnId) {
    return worker
        .call("send()", () -> machine.hasUnsentRoomEvent(roomId, txnId))
        // A ciphertext saved for this txn id (a retry after a crash) goes out as it is.
        .compose(saved -> saved ? Future.<Void>succeededFuture() : shareRoomKey(roomId))
        .compose(
            v ->
                worker.call(
                    "send()", () -> toVertx(machine.encryptRoomEvent(roomId, type, node, txnId))))
        .compose(
            ciphertext ->
                put(roomId, "m.room.encrypted", txnId, ciphertext)
                    .transform(
                        ar -> {
                          boolean done =
                              ar.succeeded()
                                  || RetryPolicy.classify(ar.cause()) == RetryPolicy.Verdict.FAIL;
                          Future<Void> forget =
                              done
                                  ? worker.call(
                                      "send()",
                                      () -> {
                                        machine.forgetUnsentRoomEvent(roomId, txnId);
                                        return null;
                                      })
                                  : Future.succeededFuture();
                          return forget.transform(
                              x ->
                                  ar.succeeded()
                                      ? Future.succeededFuture(ar.result())
                                      : Future.<String>failedFuture(ar.cause()));
                        }));
  }

  /**
   * Runs {@code job} as a job of the room's send queue (in call order with {@link #send}), after
   * the same key-sharing round as an encrypted send: for senders of other encrypted events, such as
   * encrypted state events (MSC4362, {@link io.github.mxe2ee.plugin.state}).
   */
  public <T> Future<T> withRoomKey(String roomId, java.util.function.Supplier<Future<T>> job) {
    return queue.submit(roomId, () -> shareRoomKey(roomId).compose(v -> job.get()));
  }

  /** One key-sharing round for the room's current recipients (nothing to send if all have it). */
  private Future<Void> shareRoomKey(String roomId) {
    return recipients(roomId)
        .compose(
            users ->
                worker
                    .call(
                        "send()",
                        () -> {
                          machine.updateTrackedUsers(users);
                          return null;
                        })
                    .compose(v -> requests.drain())
                    .compose(v -> worker.call("send()", () -> machine.getMissingSessions(users)))
                    .compose(
                        claim ->
                            claim.isPresent()
                                ? requests.sendAll(List.of(claim.get()))
                                : Future.<Void>succeededFuture())
                    .compose(v -> worker.call("send()", () -> machine.shareRoomKey(roomId, users)))
                    .compose(requests::sendAll));
  }

  /** The users to share the room key with, fetching the room's members the first time. */
  private Future<List<String>> recipients(String roomId) {
    Future<RoomMembers.Members> known =
        members.members(roomId).map(Future::succeededFuture).orElseGet(() -> fetchMembers(roomId));
    return known.compose(
        m -> historyVisibility(roomId).compose(v -> worker.call("send()", () -> m.recipients(v))));
  }

  /**
   * The room's history visibility, asked from the server if the engine never saw it ({@link
   * RoomVisibility}), before the room key is shared: the outbound session's {@code shared_history}
   * flag (MSC4268) follows it. Without it every session an appservice's ghost device creates would
   * be unflagged and never passed on as history.
   */
  private Future<String> historyVisibility(String roomId) {
    return RoomVisibility.resolve(
        worker,
        machine,
        roomId,
        path ->
            retrier.run("GET m.room.history_visibility", () -> client.request("GET", path, null)));
  }

  private Future<RoomMembers.Members> fetchMembers(String roomId) {
    members.fetching(roomId);
    String path = "/_matrix/client/v3/rooms/" + encode(roomId) + "/members?not_membership=leave";
    return retrier
        .run("GET /members", () -> client.request("GET", path, null))
        .compose(
            body -> {
              Map<String, String> snapshot = new HashMap<>();
              if (body.getValue("chunk") instanceof JsonArray chunk) {
                for (Object o : chunk) {
                  if (o instanceof JsonObject e
                      && "m.room.member".equals(e.getValue("type"))
                      && e.getValue("state_key") instanceof String user
                      && e.getValue("content") instanceof JsonObject c
                      && c.getValue("membership") instanceof String m) {
                    snapshot.put(user, m);
                  }
                }
              }
              Optional<RoomMembers.Members> m = members.fetched(roomId, snapshot);
              if (m.isEmpty()) {
                // Superseded or too many events meanwhile: use the snapshot once, fetch next time.
                members.forget(roomId);
                RoomMembers once = new RoomMembers();
                once.fetching(roomId);
                return Future.succeededFuture(once.fetched(roomId, snapshot).orElseThrow());
              }
              return Future.succeededFuture(m.get());
            },
            err -> {
              members.forget(roomId);
              return Future.failedFuture(err);
            });
  }

  /**
   * Whether the room is encrypted: known from its state ({@code m.room.encryption} seen in a sync
   * or fetched before), or else asked from the server ({@code GET .../state/m.room.encryption/}:
   * 404 means unencrypted; a found event is recorded, so it is asked only once).
   */
  public Future<Boolean> isEncrypted(String roomId) {
    return worker
        .call("send()", () -> machine.isRoomEncrypted(roomId))
        .compose(
            known -> {
              if (known) {
                return Future.succeededFuture(true);
              }
              String path =
                  "/_matrix/client/v3/rooms/" + encode(roomId) + "/state/m.room.encryption/";
              return retrier
                  .run("GET m.room.encryption", () -> client.request("GET", path, null))
                  .compose(
                      content ->
                          worker.call(
                              "send()",
                              () -> {
                                machine.onRoomEncryption(roomId, toNode.apply(content));
                                return true;
                              }),
                      err ->
                          err instanceof HomeserverException h && h.statusCode() == 404
                              ? Future.succeededFuture(false)
                              : Future.failedFuture(err));
            });
  }

  private Future<String> put(String roomId, String type, String txnId, JsonObject content) {
    String path =
        "/_matrix/client/v3/rooms/"
            + encode(roomId)
            + "/send/"
            + encode(type)
            + "/"
            + encode(txnId);
    return retrier
        .run("PUT /send", () -> client.request("PUT", path, content))
        .map(
            resp -> {
              if (!(resp.getValue("event_id") instanceof String id)) {
                throw new HomeserverException(
                    "/_matrix/client/v3/rooms/{roomId}/send", 0, null, "no event_id in the answer");
              }
              LOG.log(System.Logger.Level.DEBUG, "room {0}: sent {1} as {2}", roomId, txnId, id);
              return id;
            });
  }

  private static JsonObject toVertx(ObjectNode node) {
    return new JsonObject(node.toString());
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
