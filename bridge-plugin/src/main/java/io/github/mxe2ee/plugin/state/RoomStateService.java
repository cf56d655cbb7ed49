package io.github.mxe2ee.plugin.state;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.EncryptedState;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.http.Retrier;
import io.github.mxe2ee.plugin.send.RoomSender;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The Vert.x side of encrypted state (docs/PLUGIN.md, "Encrypted room state"): {@link
 * io.github.mxe2ee.plugin.MatrixE2ee#roomState} (fetching a room's full state once per process when
 * the syncs did not bring it), {@link io.github.mxe2ee.plugin.MatrixE2ee#sendStateEvent} and {@link
 * io.github.mxe2ee.plugin.MatrixE2ee#createEncryptedRoom}. Machine and table calls run on the
 * plugin's worker. Thread-safe.
 */
public final class RoomStateService {
  private static final System.Logger LOG = System.getLogger(RoomStateService.class.getName());
  private static final String MEGOLM = "m.megolm.v1.aes-sha2";

  private final HomeserverClient client;
  private final Retrier retrier;
  private final RoomSender.Worker worker;
  private final RoomSender sender;
  private final OlmMachine machine;
  private final EncryptedStates states;
  private final Function<JsonObject, ObjectNode> toNode;
  private final Map<String, Future<RoomState>> fetching = new ConcurrentHashMap<>();

  /**
   * @param states the plugin's table, used on {@code worker} only
   * @param toNode converts content to the core's JSON within its bounds
   */
  public RoomStateService(
      HomeserverClient client,
      Retrier retrier,
      RoomSender.Worker worker,
      RoomSender sender,
      OlmMachine machine,
      EncryptedStates states,
      Function<JsonObject, ObjectNode> toNode) {
    this.client = Objects.requireNonNull(client, "client");
    this.retrier = Objects.requireNonNull(retrier, "retrier");
    this.worker = Objects.requireNonNull(worker, "worker");
    this.sender = Objects.requireNonNull(sender, "sender");
    this.machine = Objects.requireNonNull(machine, "machine");
    this.states = Objects.requireNonNull(states, "states");
    this.toNode = Objects.requireNonNull(toNode, "toNode");
  }

  /** See {@link io.github.mxe2ee.plugin.MatrixE2ee#roomState}. */
  public Future<RoomState> roomState(String roomId) {
    return worker
        .call("roomState()", () -> states.isComplete(roomId) ? states.snapshot(roomId) : null)
        .compose(known -> known != null ? Future.succeededFuture(known) : fetchOnce(roomId));
  }

  /** One fetch per room at a time: concurrent callers share it. */
  private Future<RoomState> fetchOnce(String roomId) {
    io.vertx.core.Promise<RoomState> promise = io.vertx.core.Promise.promise();
    Future<RoomState> running = fetching.putIfAbsent(roomId, promise.future());
    if (running != null) {
      return running;
    }
    fetch(roomId)
        .onComplete(
            ar -> {
              fetching.remove(roomId, promise.future());
              promise.handle(ar);
            });
    return promise.future();
  }

  /**
   * Fetches the room's full state with a one-room sync ({@code full_state}, no {@code since}, a
   * filter leaving out members, presence, account data and all but the last timeline event): an
   * answer the plugin already knows how to read, where {@code GET /state} would be a bare array.
   * To-device messages in that answer are not acknowledged (its token is never used), so the sync
   * loop still receives them.
   */
  private Future<RoomState> fetch(String roomId) {
    JsonObject filter =
        new JsonObject()
            .put(
                "room",
                new JsonObject()
                    .put("rooms", new JsonArray().add(roomId))
                    .put("timeline", new JsonObject().put("limit", 1))
                    .put(
                        "state",
                        new JsonObject().put("not_types", new JsonArray().add("m.room.member")))
                    .put("ephemeral", new JsonObject().put("not_types", new JsonArray().add("*")))
                    .put(
                        "account_data",
                        new JsonObject().put("not_types", new JsonArray().add("*"))))
            .put("presence", new JsonObject().put("not_types", new JsonArray().add("*")))
            .put("account_data", new JsonObject().put("not_types", new JsonArray().add("*")));
    String path =
        "/_matrix/client/v3/sync?full_state=true&timeout=0&filter=" + encode(filter.encode());
    return worker
        .call("roomState()", states::mark)
        .compose(
            mark ->
                retrier
                    .run("GET /sync (room state)", () -> client.request("GET", path, null))
                    .compose(
                        body ->
                            worker.call(
                                "roomState()",
                                () -> {
                                  JsonArray fetched = stateOf(roomId, body);
                                  if (fetched != null) {
                                    states.completeFrom(roomId, mark, fetched);
                                  }
                                  return states.snapshot(roomId);
                                }),
                        err -> {
                          LOG.log(
                              System.Logger.Level.WARNING,
                              "room {0}: full state not fetched ({1}); partial state returned",
                              roomId,
                              err.toString());
                          return worker.call("roomState()", () -> states.snapshot(roomId));
                        }));
  }

  /**
   * The state events of a one-room sync answer, decrypted and checked, in order; null if the answer
   * does not have the room (not joined): then nothing is known to be complete.
   */
  private JsonArray stateOf(String roomId, JsonObject body) {
    JsonArray out = new JsonArray();
    if (!(body.getValue("rooms") instanceof JsonObject rooms)
        || !(rooms.getValue("join") instanceof JsonObject join)
        || !(join.getValue(roomId) instanceof JsonObject room)) {
      return null;
    }
    List<String> sections = new ArrayList<>();
    if (EncryptedStates.events(room, "state_after") != null) {
      sections.add("state_after");
    } else if (EncryptedStates.events(room, "org.matrix.msc4222.state_after") != null) {
      sections.add("org.matrix.msc4222.state_after");
    } else {
      sections.add("state");
      sections.add("timeline");
    }
    for (String section : sections) {
      JsonArray events = EncryptedStates.events(room, section);
      if (events == null) {
        continue;
      }
      JsonArray stateEvents = new JsonArray();
      for (Object o : events) {
        if (o instanceof JsonObject e && e.getValue("state_key") instanceof String) {
          stateEvents.add(e);
        }
      }
      EncryptedStates.stripForgedMarks(stateEvents);
      states.decryptStateEvents(roomId, stateEvents);
      stateEvents.forEach(out::add);
    }
    return out;
  }

  /** See {@link io.github.mxe2ee.plugin.MatrixE2ee#sendStateEvent}. */
  public Future<String> sendStateEvent(
      String roomId, String type, String stateKey, JsonObject content) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(stateKey, "stateKey");
    ObjectNode node;
    try {
      node = toNode.apply(content);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    return sender
        .isEncrypted(roomId)
        .compose(
            encrypted ->
                encrypted
                    ? worker.call("sendStateEvent()", () -> machine.isStateEncrypted(roomId))
                    : Future.succeededFuture(false))
        .compose(
            encryptState -> {
              if (!encryptState || EncryptedState.NEVER_ENCRYPTED.contains(type)) {
                return put(roomId, type, stateKey, content.copy());
              }
              String packed;
              try {
                packed = EncryptedState.pack(type, stateKey);
              } catch (IllegalArgumentException e) {
                // Sending it plain would leak what the room encrypts: refused.
                return Future.failedFuture(e);
              }
              return sender.withRoomKey(
                  roomId,
                  () ->
                      worker
                          .call(
                              "sendStateEvent()",
                              () ->
                                  new JsonObject(
                                      machine
                                          .encryptStateEvent(roomId, type, stateKey, node)
                                          .toString()))
                          // Retries of the PUT send this one ciphertext.
                          .compose(
                              ciphertext -> put(roomId, "m.room.encrypted", packed, ciphertext)));
            });
  }

  /** See {@link io.github.mxe2ee.plugin.MatrixE2ee#createEncryptedRoom}. */
  public Future<String> createEncryptedRoom(JsonObject createRoomBody, boolean encryptState) {
    JsonObject body = createRoomBody == null ? new JsonObject() : createRoomBody.copy();
    JsonObject encryption = new JsonObject().put("algorithm", MEGOLM);
    if (encryptState) {
      encryption.put(EncryptedState.UNSTABLE_FLAG, true);
    }
    List<JsonObject> later = new ArrayList<>();
    JsonArray initial = new JsonArray();
    if (body.getValue("initial_state") instanceof JsonArray given) {
      for (Object o : given) {
        if (!(o instanceof JsonObject e) || "m.room.encryption".equals(e.getValue("type"))) {
          continue;
        }
        if (encryptState
            && e.getValue("type") instanceof String t
            && EncryptedState.mayEncrypt(t)) {
          later.add(e);
        } else {
          initial.add(e);
        }
      }
    }
    initial.add(
        new JsonObject()
            .put("type", "m.room.encryption")
            .put("state_key", "")
            .put("content", encryption));
    body.put("initial_state", initial);
    if (encryptState) {
      // createRoom's name and topic fields would be plain state: sent encrypted afterwards.
      List<JsonObject> first = new ArrayList<>();
      if (body.remove("name") instanceof String name) {
        first.add(stateEvent("m.room.name", new JsonObject().put("name", name)));
      }
      if (body.remove("topic") instanceof String topic) {
        first.add(stateEvent("m.room.topic", new JsonObject().put("topic", topic)));
      }
      later.addAll(0, first);
    }
    return retrier
        .run(
            "POST /createRoom", () -> client.request("POST", "/_matrix/client/v3/createRoom", body))
        .compose(
            resp -> {
              if (!(resp.getValue("room_id") instanceof String roomId)) {
                return Future.failedFuture(
                    new HomeserverException(
                        "/_matrix/client/v3/createRoom", 0, null, "no room_id in the answer"));
              }
              Future<Void> chain =
                  worker.call(
                      "createEncryptedRoom()",
                      () -> {
                        machine.onRoomEncryption(roomId, toNode.apply(encryption));
                        return null;
                      });
              for (JsonObject e : later) {
                String stateKey = e.getValue("state_key") instanceof String k ? k : "";
                JsonObject content =
                    e.getValue("content") instanceof JsonObject c ? c : new JsonObject();
                chain =
                    chain.compose(
                        v ->
                            sendStateEvent(roomId, (String) e.getValue("type"), stateKey, content)
                                .mapEmpty());
              }
              return chain.map(roomId);
            });
  }

  private static JsonObject stateEvent(String type, JsonObject content) {
    return new JsonObject().put("type", type).put("state_key", "").put("content", content);
  }

  private Future<String> put(String roomId, String type, String stateKey, JsonObject content) {
    String path =
        "/_matrix/client/v3/rooms/"
            + encode(roomId)
            + "/state/"
            + encode(type)
            + "/"
            + encode(stateKey);
    return retrier
        .run("PUT /state", () -> client.request("PUT", path, content))
        .map(
            resp -> {
              if (!(resp.getValue("event_id") instanceof String id)) {
                throw new HomeserverException(
                    "/_matrix/client/v3/rooms/{roomId}/state",
                    0,
                    null,
                    "no event_id in the answer");
              }
              return id;
            });
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
