package io.github.mxe2ee.plugin.history;

import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.ReceivedRoomKeyBundle;
import io.github.mxe2ee.machine.RoomKeyBundleImport;
import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.HomeserverException;
import io.github.mxe2ee.plugin.media.MediaClient;
import io.github.mxe2ee.plugin.media.MediaException;
import io.github.mxe2ee.plugin.media.MxcUri;
import io.github.mxe2ee.plugin.send.RoomSender;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Receives room history (MSC4268, "Actions as a receiving client"): follows who invited the bot to
 * which room and when it joined, and for a joined room whose inviter sent an {@code
 * m.room_key_bundle} (kept by the engine across restarts) downloads the encrypted bundle (at most
 * {@link HistoryOptions#getMaxBundleBytes()}), refreshes the inviter's keys and hands the
 * ciphertext to the engine's import, which checks the inviter's cross-signing, the size, the hash
 * and the content and imports only the room's keys. A bundle that arrives after the join is
 * imported if it arrives within {@link HistoryOptions#getAcceptWindowMs()}. Only the inviter's
 * bundle is ever fetched: announcements from anyone else are never downloaded. Held events whose
 * keys the bundle brought are re-emitted by the late-key path with the next sync.
 *
 * <p>The inviter is the sender of the bot's {@code invite} membership event (seen in the sync's
 * {@code rooms.invite}), else the {@code unsigned.prev_sender} of its join event when the previous
 * membership was {@code invite}. What is followed here is in memory (at most {@link #MAX_ROOMS}
 * rooms); after a restart, and whenever to-device messages arrive, the announcements the engine
 * keeps are matched against the bot's own membership events read from the server ({@link
 * #MAX_LOOKUPS_PER_SCAN} lookups a time), so a bundle whose import a restart interrupted, or that
 * arrives after the join, is still imported within the window.
 *
 * <p>Created by the plugin, which calls {@link #onSync} after each processed sync response on the
 * event loop. Every outcome is logged (ids, counts and reasons only).
 */
public final class BundleReceiver {
  private static final System.Logger LOG = System.getLogger(BundleReceiver.class.getName());

  /** Most rooms followed at once (invites seen, joins awaiting a bundle). */
  public static final int MAX_ROOMS = 1000;

  /**
   * Most import attempts per joined room for failures that may pass (download errors other than
   * 404, an inviter whose cross-signing is not known yet).
   */
  public static final int MAX_ATTEMPTS = 3;

  private record Awaiting(String inviter, long joinedAtMillis, int attempts) {}

  private final RoomSender.Worker worker;
  private final RoomSender.Requests requests;
  private final OlmMachine machine;
  private final Supplier<MediaClient> media;
  private final HistoryOptions options;
  private final String ownUserId;
  private final LongSupplier clock;

  private final Map<String, String> invites = new LinkedHashMap<>();
  private final Map<String, Awaiting> awaiting = new LinkedHashMap<>();
  private final Map<String, Future<Outcome>> inFlight = new HashMap<>();

  /** Announcements (room, sender, arrival) already looked at by {@link #scanAnnouncements}. */
  private final Set<String> scanned = new LinkedHashSet<>();

  private boolean scanning;
  private boolean scannedOnce;

  private final HomeserverClient client;

  /**
   * @param client the logged-in homeserver client (membership lookups)
   * @param ownUserId the bot's user id
   * @param clock milliseconds since the epoch (the join time and the window)
   */
  public BundleReceiver(
      HomeserverClient client,
      RoomSender.Worker worker,
      RoomSender.Requests requests,
      OlmMachine machine,
      Supplier<MediaClient> media,
      HistoryOptions options,
      String ownUserId,
      LongSupplier clock) {
    this.client = client;
    this.worker = worker;
    this.requests = requests;
    this.machine = machine;
    this.media = media;
    this.options = new HistoryOptions(options);
    this.ownUserId = ownUserId;
    this.clock = clock;
  }

  /** What one import attempt came to (for logs and tests). */
  public enum Outcome {
    /** The bundle was imported. */
    IMPORTED,
    /** No bundle from the inviter yet: waiting (within the window). */
    WAITING,
    /** Refused, with a logged reason; nothing imported, the announcement discarded. */
    REFUSED,
    /** Failed for a reason that may pass; tried again with a later sync (bounded). */
    RETRY,
    /** Not followed (no join awaiting a bundle in this room, or receiving is off). */
    NOT_AWAITED
  }

  /**
   * Follows the response's invites and joins of the bot, then tries the imports due. Never fails;
   * the imports run in the background.
   */
  public void onSync(JsonObject body) {
    if (!options.isAcceptBundles()) {
      return;
    }
    try {
      follow(body);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "history: sync not followed: {0}", e.toString());
    }
    for (String roomId : due()) {
      tryImport(roomId);
    }
    boolean toDevice =
        body.getValue("to_device") instanceof JsonObject td
            && td.getValue("events") instanceof JsonArray events
            && !events.isEmpty();
    if (toDevice || !scannedOnce) {
      scanAnnouncements();
    }
  }

  /** Most membership lookups one scan makes (the rest wait for the next scan). */
  public static final int MAX_LOOKUPS_PER_SCAN = 20;

  /**
   * Matches announcements kept by the engine to joins this receiver did not see: after a restart
   * (what it follows is in memory) or for a bundle arriving after the join. For each announcement
   * not looked at yet, the bot's own membership event in that room is read ({@code GET
   * /rooms/{roomId}/state/m.room.member/{userId}?format=event}): if the bot joined, its previous
   * membership was an invite from the announcement's sender ({@code unsigned.prev_sender}) and the
   * join is within the accept window, the room is awaited and imported as if the join had just been
   * seen. An announcement of anyone else is never downloaded.
   */
  private void scanAnnouncements() {
    synchronized (this) {
      if (scanning) {
        return;
      }
      scanning = true;
      scannedOnce = true;
    }
    worker
        .call("history", machine::receivedRoomKeyBundles)
        .compose(
            all -> {
              List<Future<Void>> lookups = new ArrayList<>();
              synchronized (this) {
                for (ReceivedRoomKeyBundle b : all) {
                  String key = b.roomId() + "\0" + b.sender() + "\0" + b.receivedAtMillis();
                  if (lookups.size() >= MAX_LOOKUPS_PER_SCAN) {
                    scannedOnce = false; // more next time
                    break;
                  }
                  if (awaiting.containsKey(b.roomId()) || !scanned.add(key)) {
                    continue;
                  }
                  if (scanned.size() > MAX_ROOMS) {
                    scanned.remove(scanned.iterator().next());
                  }
                  lookups.add(lookUpJoin(b.roomId(), b.sender()));
                }
              }
              return Future.join(lookups).<Void>mapEmpty();
            })
        .onComplete(
            ar -> {
              synchronized (this) {
                scanning = false;
              }
              if (ar.failed()) {
                LOG.log(
                    System.Logger.Level.DEBUG,
                    "history: announcements not scanned: {0}",
                    ar.cause().toString());
              }
            });
  }

  /** Awaits {@code roomId} if the bot joined it on {@code sender}'s invite within the window. */
  private Future<Void> lookUpJoin(String roomId, String sender) {
    String path =
        "/_matrix/client/v3/rooms/"
            + RoomHistory.encode(roomId)
            + "/state/m.room.member/"
            + RoomHistory.encode(ownUserId)
            + "?format=event";
    return client
        .request("GET", path, null)
        .map(
            ev -> {
              if (ownMembership(ev, "join") instanceof JsonObject join
                  && join.getValue("unsigned") instanceof JsonObject u
                  && u.getValue("prev_content") instanceof JsonObject prev
                  && "invite".equals(prev.getValue("membership"))
                  && sender.equals(u.getValue("prev_sender"))
                  && join.getValue("origin_server_ts") instanceof Number ts
                  && clock.getAsLong() - ts.longValue() <= options.getAcceptWindowMs()) {
                boolean added;
                synchronized (this) {
                  added =
                      awaiting.putIfAbsent(roomId, new Awaiting(sender, ts.longValue(), 0)) == null;
                }
                if (added) {
                  LOG.log(
                      System.Logger.Level.INFO,
                      "history: room {0}: joined on the invite of {1}, whose room key bundle is"
                          + " here; importing",
                      roomId,
                      sender);
                  tryImport(roomId);
                }
              }
              return null;
            })
        .otherwiseEmpty()
        .mapEmpty();
  }

  /** Rooms whose import should be tried now; drops the ones past the window. */
  private synchronized List<String> due() {
    List<String> rooms = new ArrayList<>();
    long now = clock.getAsLong();
    for (var it = awaiting.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (now - e.getValue().joinedAtMillis() > options.getAcceptWindowMs()) {
        it.remove();
        LOG.log(
            System.Logger.Level.INFO,
            "history: room {0}: no usable bundle from {1} within {2} ms of joining; stopped waiting",
            e.getKey(),
            e.getValue().inviter(),
            options.getAcceptWindowMs());
        discard(e.getKey(), e.getValue().inviter());
      } else if (!inFlight.containsKey(e.getKey())) {
        rooms.add(e.getKey());
      }
    }
    return rooms;
  }

  private synchronized void follow(JsonObject body) {
    JsonObject rooms = body.getValue("rooms") instanceof JsonObject r ? r : new JsonObject();
    if (rooms.getValue("invite") instanceof JsonObject invite) {
      for (String roomId : invite.fieldNames()) {
        if (invite.getValue(roomId) instanceof JsonObject room
            && room.getValue("invite_state") instanceof JsonObject st
            && st.getValue("events") instanceof JsonArray events) {
          for (Object o : events) {
            if (ownMembership(o, "invite") instanceof JsonObject ev
                && ev.getValue("sender") instanceof String inviter) {
              invites.remove(roomId);
              if (invites.size() >= MAX_ROOMS) {
                invites.remove(invites.keySet().iterator().next());
              }
              invites.put(roomId, inviter);
            }
          }
        }
      }
    }
    if (rooms.getValue("join") instanceof JsonObject join) {
      for (String roomId : join.fieldNames()) {
        if (!(join.getValue(roomId) instanceof JsonObject room)) {
          continue;
        }
        for (String part : List.of("state", "timeline")) {
          if (room.getValue(part) instanceof JsonObject p
              && p.getValue("events") instanceof JsonArray events) {
            for (Object o : events) {
              if (ownMembership(o, "join") instanceof JsonObject ev) {
                onJoined(roomId, ev);
              }
            }
          }
        }
      }
    }
  }

  /**
   * The position of {@code userId}'s own {@code join} membership event in a timeline, or -1: the
   * events before it were sent before the user joined (the room's past, whose keys may come in the
   * inviter's room key bundle).
   */
  public static int ownJoinIndex(JsonArray timeline, String userId) {
    for (int i = timeline.size() - 1; i >= 0; i--) {
      if (timeline.getValue(i) instanceof JsonObject ev
          && "m.room.member".equals(ev.getValue("type"))
          && userId.equals(ev.getValue("state_key"))
          && ev.getValue("content") instanceof JsonObject c
          && "join".equals(c.getValue("membership"))) {
        return i;
      }
    }
    return -1;
  }

  /** Our own m.room.member event of {@code membership}, or null. */
  private Object ownMembership(Object o, String membership) {
    if (o instanceof JsonObject ev
        && "m.room.member".equals(ev.getValue("type"))
        && ownUserId.equals(ev.getValue("state_key"))
        && ev.getValue("content") instanceof JsonObject c
        && membership.equals(c.getValue("membership"))) {
      return ev;
    }
    return null;
  }

  private void onJoined(String roomId, JsonObject join) {
    String inviter = invites.remove(roomId);
    if (inviter == null
        && join.getValue("unsigned") instanceof JsonObject u
        && u.getValue("prev_content") instanceof JsonObject prev
        && "invite".equals(prev.getValue("membership"))
        && u.getValue("prev_sender") instanceof String s) {
      inviter = s;
    }
    if (inviter == null || awaiting.containsKey(roomId)) {
      return;
    }
    if (awaiting.size() >= MAX_ROOMS) {
      awaiting.remove(awaiting.keySet().iterator().next());
    }
    awaiting.put(roomId, new Awaiting(inviter, clock.getAsLong(), 0));
    LOG.log(
        System.Logger.Level.DEBUG,
        "history: joined {0} on the invite of {1}; looking for their room key bundle",
        roomId,
        inviter);
  }

  /**
   * Tries the import of {@code roomId}'s bundle from the inviter now.
   *
   * @return what came of it; never failed
   */
  public Future<Outcome> tryImport(String roomId) {
    Awaiting a;
    io.vertx.core.Promise<Outcome> mine = io.vertx.core.Promise.promise();
    synchronized (this) {
      a = awaiting.get(roomId);
      if (a == null) {
        return Future.succeededFuture(Outcome.NOT_AWAITED);
      }
      Future<Outcome> running = inFlight.putIfAbsent(roomId, mine.future());
      if (running != null) {
        return running;
      }
    }
    attempt(roomId, a).onComplete(mine);
    return mine.future();
  }

  /**
   * Completes when no import of {@code roomId}'s bundle is running (at once if none is): a reader
   * of the room's history waits for a bundle being imported. Never failed.
   */
  public synchronized Future<Void> settled(String roomId) {
    Future<Outcome> running = inFlight.get(roomId);
    return running == null ? Future.succeededFuture() : running.<Void>mapEmpty().otherwiseEmpty();
  }

  private Future<Outcome> attempt(String roomId, Awaiting a) {
    return worker
        .call("history", () -> machine.receivedRoomKeyBundle(roomId, a.inviter()))
        .compose(
            (Optional<ReceivedRoomKeyBundle> found) -> {
              if (found.isEmpty()) {
                LOG.log(
                    System.Logger.Level.DEBUG,
                    "history: room {0}: no room key bundle from {1} (yet)",
                    roomId,
                    a.inviter());
                return Future.succeededFuture(Outcome.WAITING);
              }
              return fetchAndImport(found.get(), a);
            })
        .recover(
            err -> {
              LOG.log(
                  System.Logger.Level.WARNING,
                  "history: room {0}: bundle from {1} not imported: {2}",
                  roomId,
                  a.inviter(),
                  err.toString());
              return Future.succeededFuture(retryOrDrop(roomId, a));
            })
        .map(
            outcome -> {
              synchronized (this) {
                inFlight.remove(roomId);
                if (outcome == Outcome.IMPORTED || outcome == Outcome.REFUSED) {
                  awaiting.remove(roomId);
                }
              }
              return outcome;
            });
  }

  private synchronized Outcome retryOrDrop(String roomId, Awaiting a) {
    if (a.attempts() + 1 >= MAX_ATTEMPTS) {
      awaiting.remove(roomId);
      discard(roomId, a.inviter());
      return Outcome.REFUSED;
    }
    awaiting.put(roomId, new Awaiting(a.inviter(), a.joinedAtMillis(), a.attempts() + 1));
    return Outcome.RETRY;
  }

  private Future<Outcome> fetchAndImport(ReceivedRoomKeyBundle bundle, Awaiting a) {
    String roomId = bundle.roomId();
    long limit = Math.min(options.getMaxBundleBytes(), ReceivedRoomKeyBundle.MAX_BUNDLE_BYTES);
    MxcUri uri;
    try {
      uri = MxcUri.parse(bundle.file().url().orElse(null));
    } catch (MediaException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "history: room {0}: bundle from {1} refused: bad URL ({2})",
          roomId,
          a.inviter(),
          e.getMessage());
      discard(roomId, a.inviter());
      return Future.succeededFuture(Outcome.REFUSED);
    }
    MemorySink sink = new MemorySink(limit);
    return worker
        .call(
            "history",
            () -> {
              // The inviter's cross-signing must be current for the engine's check.
              machine.updateTrackedUsers(List.of(a.inviter()));
              return null;
            })
        .compose(v -> requests.drain())
        .compose(v -> media.get().download(uri, limit, sink))
        .transform(
            ar -> {
              if (ar.succeeded()) {
                byte[] ciphertext = sink.bytes();
                return worker
                    .call(
                        "history",
                        () -> machine.importRoomKeyBundle(roomId, a.inviter(), ciphertext))
                    .map(result -> outcome(roomId, a, result));
              }
              Throwable err = ar.cause();
              boolean tooLarge =
                  err instanceof MediaException m && m.reason() == MediaException.Reason.TOO_LARGE;
              boolean gone =
                  err instanceof HomeserverException h
                      && (h.statusCode() == 404 || h.statusCode() == 403);
              if (tooLarge || gone) {
                LOG.log(
                    System.Logger.Level.WARNING,
                    "history: room {0}: bundle from {1} refused: {2}",
                    roomId,
                    a.inviter(),
                    tooLarge ? "larger than " + limit + " bytes" : "download failed: " + err);
                discard(roomId, a.inviter());
                return Future.succeededFuture(Outcome.REFUSED);
              }
              return Future.failedFuture(err);
            });
  }

  private Outcome outcome(String roomId, Awaiting a, RoomKeyBundleImport result) {
    if (result instanceof RoomKeyBundleImport.Imported i) {
      LOG.log(
          System.Logger.Level.INFO,
          "history: room {0}: imported the room key bundle of {1}: {2} of {3} sessions new,"
              + " {4} withheld",
          roomId,
          a.inviter(),
          i.imported(),
          i.total(),
          i.withheld());
      return Outcome.IMPORTED;
    }
    RoomKeyBundleImport.Rejected r = (RoomKeyBundleImport.Rejected) result;
    LOG.log(
        System.Logger.Level.WARNING,
        "history: room {0}: room key bundle of {1} refused: {2} ({3})",
        roomId,
        a.inviter(),
        r.reason(),
        r.message());
    if (r.reason() == RoomKeyBundleImport.Reason.INVITER_NOT_CROSS_SIGNED
        || r.reason() == RoomKeyBundleImport.Reason.NO_BUNDLE_FROM_INVITER) {
      return retryOrDrop(roomId, a);
    }
    return Outcome.REFUSED;
  }

  private void discard(String roomId, String inviter) {
    worker
        .call(
            "history",
            () -> {
              machine.discardRoomKeyBundle(roomId, inviter);
              return null;
            })
        .onFailure(
            e ->
                LOG.log(
                    System.Logger.Level.DEBUG,
                    "history: announcement of {0} for {1} not discarded: {2}",
                    inviter,
                    roomId,
                    e.toString()));
  }
}
