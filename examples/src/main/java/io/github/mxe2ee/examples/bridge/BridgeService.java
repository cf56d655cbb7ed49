package io.github.mxe2ee.examples.bridge;

import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.appservice.AppserviceE2ee;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The example bridge's logic between the remote side ({@link Portals}, served by {@link RemoteApi})
 * and Matrix ({@link AppserviceE2ee}): portal rooms created by the bridge bot, ghosts joined on
 * their first message and sending with their own devices, and the decrypted messages of Matrix
 * users recorded from each transaction before it is acknowledged.
 *
 * <p>Restarts lose nothing: portals and messages are in the {@link PortalStore}; a transaction's
 * messages are written before {@link #onTransaction} completes, and the plugin answers the
 * homeserver only after that, so an unanswered transaction comes again and its messages are
 * recorded once (by event id).
 *
 * <p>Thread-safety: called on the Vert.x event loop; store calls run on worker threads.
 */
public final class BridgeService implements Portals {

  /**
   * Entries of the (ghost, room) joined cache before it is cleared: a cache only (joining is
   * idempotent), bounded so that many ghosts in many rooms cannot grow it without limit.
   */
  static final int MAX_JOIN_CACHE = 10_000;

  private static final System.Logger LOG = System.getLogger(BridgeService.class.getName());

  private final Vertx vertx;
  private final AppserviceE2ee appservice;
  private final AsClient http;
  private final PortalStore store;
  private final GhostNames ghosts;
  private final boolean keeper;
  private final Map<String, Future<Opened>> opening = new HashMap<>();
  private final Set<String> joined = ConcurrentHashMap.newKeySet();
  private final Map<String, Future<Void>> joining = new HashMap<>();
  private final AtomicLong undecryptable = new AtomicLong();
  private final AtomicLong relayed = new AtomicLong();

  /**
   * @param keeper whether each portal gets its keeper ghost ({@link #keeperOf}): true in the
   *     ghost-devices model, where a ghost's device can stand in for the bot's
   */
  BridgeService(
      Vertx vertx,
      AppserviceE2ee appservice,
      AsClient http,
      PortalStore store,
      GhostNames ghosts,
      boolean keeper) {
    this.keeper = keeper;
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.appservice = Objects.requireNonNull(appservice, "appservice");
    this.http = Objects.requireNonNull(http, "http");
    this.store = Objects.requireNonNull(store, "store");
    this.ghosts = Objects.requireNonNull(ghosts, "ghosts");
  }

  /** Events the bridge could not decrypt so far (logged each with its ids and reason). */
  public long undecryptable() {
    return undecryptable.get();
  }

  /** Messages of Matrix users recorded for the remote side so far (new ones, not replays). */
  public long relayed() {
    return relayed.get();
  }

  @Override
  public String ghostOf(String from) {
    return ghosts.ghostUserId(from);
  }

  @Override
  public Future<Opened> open(String portal, List<String> invite) {
    for (String user : invite) {
      if (ghosts.isBridgeUser(user)) {
        return Future.failedFuture(
            new IllegalArgumentException(
                "'invite': " + user + " is one of the bridge's own users, not a Matrix user"));
      }
    }
    // One open at a time per portal name: two concurrent first calls create one room.
    Promise<Opened> done = Promise.promise();
    Future<Opened> previous;
    synchronized (opening) {
      previous = opening.put(portal, done.future());
    }
    Future<Void> turn =
        previous == null
            ? Future.succeededFuture()
            : previous.transform(ar -> Future.succeededFuture());
    turn.compose(v -> openNow(portal, invite)).onComplete(done);
    return done.future()
        .onComplete(
            ar -> {
              synchronized (opening) {
                opening.remove(portal, done.future());
              }
            });
  }

  private Future<Opened> openNow(String portal, List<String> invite) {
    return openRoom(portal, invite).compose(o -> withKeeper(portal, o.roomId()).map(o));
  }

  /**
   * The portal's keeper: a ghost of its own ({@code @bridge_portal_<hash>}) joined to the room, so
   * that the room always has a device of the bridge besides the bot's. Synapse drops to-device
   * messages (room keys) for the appservice's devices while it holds the bridge for down, and the
   * bot's device cannot read its inbox afterwards; the plugin then decrypts with a ghost's device
   * of the room, which can (docs/BRIDGES.md, "The plugin API"). Without the keeper a portal where
   * no remote user has spoken yet would have no such ghost. Best effort: a failure is logged and
   * retried on the next open.
   */
  private Future<Void> withKeeper(String portal, String roomId) {
    if (!keeper) {
      return Future.succeededFuture();
    }
    String ghost = keeperOf(portal);
    return ensureJoined(ghost, portal + " (portal)", roomId)
        .recover(
            err -> {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "the keeper {0} of portal room {1} could not join: {2}",
                  ghost,
                  roomId,
                  err.toString());
              return Future.succeededFuture();
            });
  }

  /**
   * The keeper ghost of a portal: {@code @bridge_portal_} and the first 16 bytes of the SHA-256 of
   * the portal name, in hex (bounded whatever the name, and apart from every remote user's ghost,
   * whose prefix differs).
   */
  String keeperOf(String portal) {
    String id = "@" + KEEPER_PREFIX + portalHash(portal) + ":" + serverName();
    if (!ghosts.isBridgeUser(id)) {
      throw new IllegalStateException("the keeper prefix is outside the appservice namespace");
    }
    return id;
  }

  private String serverName() {
    String any = ghosts.ghostUserId("x");
    return any.substring(any.indexOf(':') + 1);
  }

  /** The first 16 bytes of the SHA-256 of the portal name, in hex. */
  private static String portalHash(String portal) {
    try {
      byte[] h =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(portal.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(h, 0, 16);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /**
   * The localpart of the portal's room alias, {@code bridge_portal_} and {@link #portalHash}: one
   * per portal name, whatever the name (bounded, in the alias grammar), inside the bridge's alias
   * namespace ({@code #bridge_.*} in the dev registration).
   */
  static String portalAliasLocalpart(String portal) {
    return KEEPER_PREFIX + portalHash(portal);
  }

  /** Localpart prefix of the portals' keeper ghosts. */
  static final String KEEPER_PREFIX = "bridge_portal_";

  private Future<Opened> openRoom(String portal, List<String> invite) {
    return vertx
        .executeBlocking(() -> store.portal(portal))
        .compose(
            existing -> {
              if (existing.isPresent()) {
                return inviteAll(existing.get().roomId(), invite, false);
              }
              return createRoom(portal)
                  .compose(
                      roomId ->
                          vertx
                              .executeBlocking(
                                  () -> {
                                    store.addPortal(new PortalStore.Portal(portal, roomId));
                                    return roomId;
                                  })
                              .compose(id -> inviteAll(id, invite, true)));
            });
  }

  /**
   * Creates the portal room as the bridge bot: private (invite only), end-to-end encrypted from its
   * first event ({@code m.room.encryption} in {@code initial_state}), named after the portal, with
   * the portal's alias ({@link #portalAliasLocalpart}). History visibility stays the preset's
   * {@code shared}, so invited users get the room keys of messages sent before they join.
   *
   * <p>Idempotent across a crash: the room and its alias are created in one request, and the portal
   * is recorded only after it; a bridge that died in between finds the alias in use ({@code
   * createRoom} answers 400 {@code M_ROOM_IN_USE}, Client-Server API "Room aliases") on the retry
   * and takes the room it names, if the bridge bot created that room (its {@code m.room.create}
   * event is the bot's); an alias held by anyone else's room fails the open, never adopted (the
   * registration's exclusive alias namespace keeps others from taking it at all).
   */
  Future<String> createRoom(String portal) {
    JsonObject body =
        new JsonObject()
            .put("preset", "private_chat")
            .put("name", portal)
            .put("topic", "Portal '" + portal + "' of the mxe2ee example bridge")
            .put("room_alias_name", portalAliasLocalpart(portal))
            .put(
                "initial_state",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("type", "m.room.encryption")
                            .put("state_key", "")
                            .put(
                                "content",
                                new JsonObject().put("algorithm", "m.megolm.v1.aes-sha2"))));
    return http.request(HttpMethod.POST, "/createRoom", null, body)
        .map(
            r -> {
              String roomId = r.getString("room_id");
              LOG.log(System.Logger.Level.INFO, "portal room {0} created", roomId);
              return roomId;
            })
        .recover(
            err -> {
              if (err instanceof HomeserverException h && "M_ROOM_IN_USE".equals(h.errcode())) {
                return roomOfAlias(portal);
              }
              if (err instanceof HomeserverException h && "M_EXCLUSIVE".equals(h.errcode())) {
                // The registration reserves no alias namespace for the bridge: the room is made
                // without its alias (a crash before the portal is recorded then leaves a room).
                LOG.log(
                    System.Logger.Level.WARNING,
                    "the appservice registration reserves no alias namespace for the portal"
                        + " aliases (#{0}...): portal creation is not idempotent across a crash",
                    KEEPER_PREFIX);
                JsonObject plain = body.copy();
                plain.remove("room_alias_name");
                return http.request(HttpMethod.POST, "/createRoom", null, plain)
                    .map(r -> r.getString("room_id"));
              }
              return Future.failedFuture(err);
            });
  }

  /**
   * The room the portal's alias names, if the bridge bot created it (a room made by an earlier run
   * that died before recording the portal); fails with {@link IllegalStateException} otherwise.
   */
  private Future<String> roomOfAlias(String portal) {
    String alias = "#" + portalAliasLocalpart(portal) + ":" + serverName();
    return http.request(HttpMethod.GET, "/directory/room/" + AsClient.seg(alias), null, null)
        .compose(
            r -> {
              if (!(r.getValue("room_id") instanceof String roomId)) {
                return Future.failedFuture(
                    new IllegalStateException("the portal alias resolves to no room"));
              }
              return http.request(HttpMethod.GET, "/account/whoami", null, null)
                  .compose(
                      me ->
                          createdBy(roomId)
                              .compose(
                                  creator -> {
                                    if (!creator.equals(me.getString("user_id"))) {
                                      return Future.failedFuture(
                                          new IllegalStateException(
                                              "the alias of portal '"
                                                  + portal
                                                  + "' names a room the bridge did not create"));
                                    }
                                    LOG.log(
                                        System.Logger.Level.INFO,
                                        "portal room {0} found by its alias (created before a"
                                            + " restart, not recorded)",
                                        roomId);
                                    return Future.succeededFuture(roomId);
                                  }));
            })
        .recover(
            err ->
                err instanceof HomeserverException h
                        && (h.statusCode() == 403 || h.statusCode() == 404)
                    ? Future.failedFuture(
                        new IllegalStateException(
                            "the alias of portal '"
                                + portal
                                + "' names a room the bridge is not in"))
                    : Future.failedFuture(err));
  }

  /**
   * Who created the room, read as the bridge bot: the sender of its {@code m.room.create} event
   * ({@code format=event}), or the {@code creator} of its content (room versions before 11, for a
   * server that answers with the content only); "" if neither is there.
   */
  private Future<String> createdBy(String roomId) {
    return http.request(
            HttpMethod.GET,
            "/rooms/" + AsClient.seg(roomId) + "/state/m.room.create/?format=event",
            null,
            null)
        .map(
            r -> {
              if (r.getValue("content") instanceof JsonObject
                  && r.getValue("sender") instanceof String sender) {
                return sender;
              }
              return r.getValue("creator") instanceof String creator ? creator : "";
            });
  }

  /**
   * Invites each user not yet invited or joined, as the bridge bot with {@link
   * AppserviceE2ee#invite}: the bot's device holds a copy of every room key of the portal (the
   * ghosts' and the Matrix users'), so the invitee's cross-signed devices get the keys of what was
   * said before (docs/HISTORY_SHARING.md, "Bridges"). A refused invite is listed in {@code failed}.
   */
  private Future<Opened> inviteAll(String roomId, List<String> invite, boolean created) {
    List<String> invited = new ArrayList<>();
    List<JsonObject> failed = new ArrayList<>();
    Future<Void> chain = Future.succeededFuture();
    for (String user : invite) {
      chain =
          chain.compose(
              v ->
                  membership(roomId, user, null)
                      .compose(
                          m ->
                              "join".equals(m) || "invite".equals(m)
                                  ? Future.succeededFuture()
                                  // As the bot, sharing the portal's history first (MSC4268):
                                  // a user invited later reads what was said before.
                                  : appservice.invite(roomId, user).<Void>mapEmpty())
                      .transform(
                          ar -> {
                            if (ar.succeeded()) {
                              invited.add(user);
                            } else {
                              failed.add(refusal(user, ar.cause()));
                            }
                            return Future.<Void>succeededFuture();
                          }));
    }
    return chain.map(v -> new Opened(roomId, created, invited, failed));
  }

  private static JsonObject refusal(String user, Throwable cause) {
    JsonObject out = new JsonObject().put("user_id", user);
    if (cause instanceof HomeserverException h) {
      out.put("errcode", h.errcode()).put("status", h.statusCode());
    } else {
      out.put("errcode", "M_UNKNOWN");
    }
    return out.put("error", "the homeserver refused the invite");
  }

  /** {@code user}'s membership in the room as the bot (or {@code asUser}) sees it, or null. */
  private Future<String> membership(String roomId, String user, String asUser) {
    return http.request(
            HttpMethod.GET,
            "/rooms/" + AsClient.seg(roomId) + "/state/m.room.member/" + AsClient.seg(user),
            asUser,
            null)
        .map(r -> r.getString("membership"))
        .recover(
            err ->
                err instanceof HomeserverException h && h.statusCode() == 404
                    ? Future.succeededFuture(null)
                    : Future.failedFuture(err));
  }

  @Override
  public Future<String> say(String portal, String from, String text) {
    String ghost;
    try {
      ghost = ghosts.ghostUserId(from);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    JsonObject content = new JsonObject().put("msgtype", "m.text").put("body", text);
    return roomOf(portal)
        .compose(roomId -> ensureJoined(ghost, from, roomId).map(roomId))
        .compose(
            roomId ->
                appservice.send(
                    roomId, "m.room.message", content, ghost, "remote-" + UUID.randomUUID()));
  }

  private Future<String> roomOf(String portal) {
    return vertx
        .executeBlocking(() -> store.portal(portal))
        .compose(
            p ->
                p.isPresent()
                    ? Future.succeededFuture(p.get().roomId())
                    : Future.failedFuture(new UnknownPortalException(portal)));
  }

  /**
   * Makes the ghost ready (user, device, identity: {@link AppserviceE2ee#ensureGhost}), names it
   * after the remote user, and joins it to the room (invited by the bot first); cached once done.
   */
  private Future<Void> ensureJoined(String ghost, String remoteName, String roomId) {
    String key = ghost + "\n" + roomId;
    if (joined.contains(key)) {
      return Future.succeededFuture();
    }
    // Concurrent first messages of one ghost in one room share one join (two would race to
    // invite it, and the second invite of an invited user can be refused).
    Future<Void> inFlight;
    Promise<Void> mine = Promise.promise();
    synchronized (joining) {
      inFlight = joining.putIfAbsent(key, mine.future());
    }
    if (inFlight != null) {
      return inFlight;
    }
    joinNow(ghost, remoteName, roomId, key)
        .onComplete(
            ar -> {
              synchronized (joining) {
                joining.remove(key);
              }
              mine.handle(ar);
            });
    return mine.future();
  }

  private Future<Void> joinNow(String ghost, String remoteName, String roomId, String key) {
    return appservice
        .ensureGhost(ghost)
        .compose(d -> membership(roomId, ghost, null))
        .compose(
            m -> {
              if ("join".equals(m)) {
                return Future.succeededFuture();
              }
              Future<Void> named =
                  http.request(
                          HttpMethod.PUT,
                          "/profile/" + AsClient.seg(ghost) + "/displayname",
                          ghost,
                          new JsonObject().put("displayname", remoteName))
                      .<Void>mapEmpty()
                      .recover(err -> Future.succeededFuture()); // a name is nice, not needed
              Future<Void> invited =
                  "invite".equals(m)
                      ? Future.succeededFuture()
                      : http.request(
                              HttpMethod.POST,
                              "/rooms/" + AsClient.seg(roomId) + "/invite",
                              null,
                              new JsonObject().put("user_id", ghost))
                          .mapEmpty();
              return named
                  .compose(v -> invited)
                  .compose(
                      v ->
                          http.request(
                              HttpMethod.POST,
                              "/join/" + AsClient.seg(roomId),
                              ghost,
                              new JsonObject()))
                  .<Void>mapEmpty();
            })
        .onSuccess(
            v -> {
              if (joined.size() >= MAX_JOIN_CACHE) {
                joined.clear();
              }
              joined.add(key);
            });
  }

  @Override
  public Future<List<PortalStore.Message>> messages(String portal) {
    return roomOf(portal).compose(roomId -> vertx.executeBlocking(() -> store.messages(roomId)));
  }

  /**
   * The transaction handler: records every decrypted {@code m.room.message} a Matrix user (not a
   * ghost, not the bot) sent in a portal room, once per event id, and completes once they are on
   * disk, so the plugin acknowledges the transaction only then. An event whose room key has not
   * arrived yet ({@code mxe2ee.held}) is recorded when the plugin decrypts it later ({@link
   * #onLateDecryption}); any other undecryptable event is counted and logged with its ids and
   * reason.
   */
  public Future<Void> onTransaction(String txnId, JsonObject txn) {
    List<JsonObject> candidates = new ArrayList<>();
    if (txn.getValue("events") instanceof JsonArray events) {
      for (Object o : events) {
        if (o instanceof JsonObject ev && relayable(ev)) {
          candidates.add(ev);
        }
      }
    }
    return record(candidates, "transaction " + txnId);
  }

  /**
   * The late decryption handler: an event of an earlier transaction whose room key came later, now
   * decrypted; recorded as {@link #onTransaction} would have. The plugin acknowledges the
   * transaction that brought the key only once this completes, and keeps the event held until then,
   * so a crash before the write loses nothing: the event is offered again after a restart.
   */
  public Future<Void> onLateDecryption(JsonObject ev) {
    return relayable(ev) ? record(List.of(ev), "late key") : Future.succeededFuture();
  }

  /** True for a decrypted message of a Matrix user; counts and logs undecryptable events. */
  private boolean relayable(JsonObject ev) {
    JsonObject info = ev.getValue("mxe2ee") instanceof JsonObject i ? i : null;
    if (ev.getValue("sender") instanceof String sender && ghosts.isBridgeUser(sender)) {
      // The bridge's own messages coming back: never relayed. In the bot-device model the bot's
      // device encrypted them for a ghost, so its own machine rightly refuses them as sent by a
      // device the sender does not own; that is no loss.
      return false;
    }
    if (info != null && info.getValue("decryption_failure") != null) {
      boolean held = Boolean.TRUE.equals(info.getValue("held"));
      if (!held) {
        undecryptable.incrementAndGet();
      }
      LOG.log(
          held ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
          "{0} event {1} in {2} from {3}: {4}",
          held ? "held (room key not here yet)" : "undecryptable",
          String.valueOf(ev.getValue("event_id")),
          String.valueOf(ev.getValue("room_id")),
          String.valueOf(ev.getValue("sender")),
          String.valueOf(info.getValue("decryption_failure")));
      return false;
    }
    return "m.room.message".equals(ev.getValue("type"))
        && info != null
        && Boolean.TRUE.equals(info.getValue("encrypted"))
        && ev.getValue("sender") instanceof String
        && ev.getValue("room_id") instanceof String
        && ev.getValue("event_id") instanceof String
        && ev.getValue("content") instanceof JsonObject content
        && content.getValue("body") instanceof String;
  }

  private Future<Void> record(List<JsonObject> events, String via) {
    if (events.isEmpty()) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(
        () -> {
          for (JsonObject ev : events) {
            String roomId = ev.getString("room_id");
            if (store.portalByRoom(roomId).isEmpty()) {
              continue;
            }
            String eventId = ev.getString("event_id");
            if (store.addMessage(
                roomId,
                eventId,
                ev.getString("sender"),
                ev.getJsonObject("content").getString("body"))) {
              relayed.incrementAndGet();
              LOG.log(System.Logger.Level.INFO, "relayed {0} in {1} ({2})", eventId, roomId, via);
            }
          }
          return null;
        });
  }
}
