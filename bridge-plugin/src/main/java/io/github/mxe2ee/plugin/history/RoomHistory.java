package io.github.mxe2ee.plugin.history;

import io.github.mxe2ee.plugin.HomeserverClient;
import io.github.mxe2ee.plugin.send.RoomSender;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads a room's past messages from the server ({@code GET /rooms/{roomId}/messages}, backwards)
 * and decrypts them through the plugin, so a bot can see messages sent before it joined once their
 * keys came in a room key bundle (MSC4268) or any other way. Obtained from {@link
 * io.github.mxe2ee.plugin.MatrixE2ee#history()}. Thread-safe.
 *
 * <p>Bounds: at most {@link #MAX_MESSAGES} messages per call and {@link #MAX_SCANNED} events read
 * from the server ({@link #PAGE_SIZE} per request), so a request of the room's members cannot make
 * the bot read an unbounded history.
 */
public final class RoomHistory {
  /** Most messages one call returns. */
  public static final int MAX_MESSAGES = 100;

  /** Events asked for per {@code /messages} request. */
  public static final int PAGE_SIZE = 100;

  /** Most events read from the server by one call (ten pages). */
  public static final int MAX_SCANNED = 1000;

  /** The message types counted as text messages. */
  public static final Set<String> TEXT_MSGTYPES = Set.of("m.text", "m.emote");

  /**
   * Decrypts events fetched from the server, on the plugin's worker, into the plugin's event shape
   * (what {@link io.github.mxe2ee.plugin.MatrixE2ee#onSync} makes of a timeline event). Events are
   * not held for late keys.
   */
  public interface Decryptor {
    /**
     * @param roomId the room the events are from
     * @param events encrypted events as the server gave them
     * @return one event per input, same order, decrypted or marked undecryptable
     */
    List<JsonObject> decrypt(String roomId, List<JsonObject> events);
  }

  private final HomeserverClient client;
  private final RoomSender.Worker worker;
  private final Decryptor decryptor;
  private final HistorySharer sharer;
  private final io.github.mxe2ee.machine.OlmMachine machine;
  private final java.util.function.Function<String, Future<Void>> settled;

  /**
   * Created by the plugin.
   *
   * @param client the logged-in homeserver client
   * @param worker runs machine calls on the plugin's worker
   * @param requests the plugin's request pump
   * @param machine the engine (called on the worker only)
   * @param media the media client for the bundle's upload
   * @param options the history options (copied)
   * @param decryptor decrypts fetched events (called on the worker)
   * @param settled completes when no room key bundle of the room is being imported ({@link
   *     BundleReceiver#settled}), so a read right after a join sees the bundle's keys
   */
  public RoomHistory(
      HomeserverClient client,
      RoomSender.Worker worker,
      RoomSender.Requests requests,
      io.github.mxe2ee.machine.OlmMachine machine,
      java.util.function.Supplier<io.github.mxe2ee.plugin.media.MediaClient> media,
      HistoryOptions options,
      Decryptor decryptor,
      java.util.function.Function<String, Future<Void>> settled) {
    this.client = Objects.requireNonNull(client, "client");
    this.worker = Objects.requireNonNull(worker, "worker");
    this.decryptor = Objects.requireNonNull(decryptor, "decryptor");
    this.settled = Objects.requireNonNull(settled, "settled");
    this.machine = Objects.requireNonNull(machine, "machine");
    this.sharer =
        new HistorySharer(client, worker, requests, machine, media, new HistoryOptions(options));
  }

  /**
   * Invites {@code userId} to {@code roomId}. When sharing is on for the room ({@link
   * HistoryOptions#sharesIn}), the room's history is shared first (MSC4268): the engine builds the
   * room's key bundle (the keys of every session whose sender allowed sharing, {@code
   * shared_history}; the others listed as withheld with {@code m.history_not_shared}), which is
   * encrypted as an {@code EncryptedFile} v2 and uploaded, and an Olm-encrypted {@code
   * m.room_key_bundle} goes to each of the invitee's devices signed by their owner's cross-signing
   * identity and allowed by the sharing strategy. A failure to share is logged and reported in the
   * result; the invite is sent anyway. Unlike matrix-js-sdk, the room's current history visibility
   * does not gate the bundle: each session's own flag does (MSC4268), and in a room whose sessions
   * were all created while history was hidden the bundle tells the invitee why ({@code
   * m.history_not_shared}) and shares no key. Nothing is shared for an invite the server is bound
   * to refuse (the inviter itself, a member already joined or banned, an inviter below the room's
   * {@code invite} power level): the invite is still sent, and the result's note says why.
   *
   * @return what was shared; failed if the server refused the invite ({@code HomeserverException})
   */
  public Future<InviteResult> invite(String roomId, String userId) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(userId, "userId");
    return sharer.invite(roomId, userId, true);
  }

  /**
   * {@link #invite(String, String)}, with this invite's own switch: {@code shareHistory} false
   * sends the invite without sharing anything; true shares when the options allow it for the room.
   */
  public Future<InviteResult> invite(String roomId, String userId, boolean shareHistory) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(userId, "userId");
    return sharer.invite(roomId, userId, shareHistory);
  }

  /**
   * The last {@code max} text messages ({@link #TEXT_MSGTYPES}) of {@code roomId} the bot can read,
   * oldest first, with those sent before it joined, read backwards from the server's newest event.
   *
   * @param max 1 to {@link #MAX_MESSAGES}
   * @param beforeEventId if not null and found among the events read, only events older than it are
   *     considered (a bot answering a command leaves the command and what came after out)
   * @return the messages; failed if the server refuses ({@code HomeserverException}, e.g. 403 when
   *     the bot is not in the room)
   * @throws IllegalArgumentException if {@code max} is out of range
   */
  public Future<RoomMessages> lastMessages(String roomId, int max, String beforeEventId) {
    Objects.requireNonNull(roomId, "roomId");
    if (max < 1 || max > MAX_MESSAGES) {
      throw new IllegalArgumentException("max must be between 1 and " + MAX_MESSAGES);
    }
    return settled
        .apply(roomId)
        .compose(
            v ->
                io.github.mxe2ee.plugin.send.RoomVisibility.resolve(
                    worker, machine, roomId, path -> client.request("GET", path, null)))
        .compose(visibility -> cutoff(roomId, visibility))
        .compose(
            cutoff ->
                page(roomId, null, new ArrayList<>())
                    .compose(
                        scan ->
                            worker.call(
                                "history()",
                                () ->
                                    collect(
                                        roomId,
                                        scan.events,
                                        scan.reachedStart,
                                        max,
                                        beforeEventId,
                                        cutoff))));
  }

  /**
   * The time before which a message is not repeated to the room: none ({@link Long#MIN_VALUE}) when
   * the history visibility is {@code shared} or {@code world_readable} (every member may read the
   * whole history); otherwise the latest membership event of the members who would read the answer
   * (joined, and invited when the visibility is {@code invited}): each of them has been in the room
   * since then, so a message after it was visible to all of them. An unknown visibility counts as
   * {@code joined}.
   */
  private Future<Long> cutoff(String roomId, String visibility) {
    if ("shared".equals(visibility) || "world_readable".equals(visibility)) {
      return Future.succeededFuture(Long.MIN_VALUE);
    }
    boolean invitedToo = "invited".equals(visibility);
    String path = "/_matrix/client/v3/rooms/" + encode(roomId) + "/members?not_membership=leave";
    return client
        .request("GET", path, null)
        .map(
            body -> {
              long latest = Long.MIN_VALUE;
              if (body.getValue("chunk") instanceof JsonArray chunk) {
                for (Object o : chunk) {
                  if (o instanceof JsonObject e
                      && e.getValue("content") instanceof JsonObject c
                      && ("join".equals(c.getValue("membership"))
                          || (invitedToo && "invite".equals(c.getValue("membership"))))
                      && e.getValue("origin_server_ts") instanceof Number ts) {
                    latest = Math.max(latest, ts.longValue());
                  }
                }
              }
              return latest;
            });
  }

  private record Scan(List<JsonObject> events, boolean reachedStart) {}

  /** Reads pages backwards until the start of the room or {@link #MAX_SCANNED} events. */
  private Future<Scan> page(String roomId, String from, List<JsonObject> acc) {
    String path =
        "/_matrix/client/v3/rooms/"
            + encode(roomId)
            + "/messages?dir=b&limit="
            + PAGE_SIZE
            + (from == null ? "" : "&from=" + encode(from));
    return client
        .request("GET", path, null)
        .compose(
            body -> {
              JsonArray chunk = body.getValue("chunk") instanceof JsonArray c ? c : new JsonArray();
              for (Object o : chunk) {
                if (o instanceof JsonObject e && acc.size() < MAX_SCANNED) {
                  acc.add(e);
                }
              }
              String end = body.getValue("end") instanceof String s && !s.isEmpty() ? s : null;
              boolean reachedStart = end == null || chunk.isEmpty();
              if (reachedStart || acc.size() >= MAX_SCANNED || end.equals(from)) {
                return Future.succeededFuture(new Scan(acc, reachedStart));
              }
              return page(roomId, end, acc);
            });
  }

  /** On the worker: drops what is not older than the command, decrypts, keeps text messages. */
  private RoomMessages collect(
      String roomId,
      List<JsonObject> newestFirst,
      boolean reachedStart,
      int max,
      String before,
      long cutoff) {
    List<JsonObject> events = newestFirst;
    if (before != null) {
      for (int i = 0; i < newestFirst.size(); i++) {
        if (before.equals(newestFirst.get(i).getValue("event_id"))) {
          events = newestFirst.subList(i + 1, newestFirst.size());
          break;
        }
      }
    }
    List<JsonObject> encrypted = new ArrayList<>();
    for (JsonObject e : events) {
      if ("m.room.encrypted".equals(e.getValue("type"))) {
        encrypted.add(e);
      }
    }
    List<JsonObject> decrypted =
        encrypted.isEmpty() ? List.of() : decryptor.decrypt(roomId, encrypted);
    Map<JsonObject, JsonObject> byOriginal = new java.util.IdentityHashMap<>();
    for (int i = 0; i < encrypted.size() && i < decrypted.size(); i++) {
      byOriginal.put(encrypted.get(i), decrypted.get(i));
    }
    List<JsonObject> messages = new ArrayList<>();
    Map<String, Integer> failures = new LinkedHashMap<>();
    int undecryptable = 0;
    int hidden = 0;
    for (JsonObject raw : events) {
      if (cutoff != Long.MIN_VALUE
          && !(raw.getValue("origin_server_ts") instanceof Number ts && ts.longValue() >= cutoff)) {
        if (messages.size() < max
            && ("m.room.encrypted".equals(raw.getValue("type"))
                || "m.room.message".equals(raw.getValue("type")))) {
          hidden++;
        }
        continue;
      }
      JsonObject e = byOriginal.getOrDefault(raw, raw);
      if (e.getValue("mxe2ee") instanceof JsonObject info
          && info.getValue("decryption_failure") instanceof String failure) {
        if (messages.size() >= max) {
          continue; // older than the messages returned: not counted
        }
        undecryptable++;
        String cause = info.getValue("withheld_code") instanceof String w ? w : failure;
        failures.merge(cause, 1, Integer::sum);
        continue;
      }
      if (messages.size() < max
          && "m.room.message".equals(e.getValue("type"))
          && e.getValue("content") instanceof JsonObject content
          && content.getValue("body") instanceof String
          && content.getValue("msgtype") instanceof String msgtype
          && TEXT_MSGTYPES.contains(msgtype)) {
        messages.add(e);
      }
    }
    Collections.reverse(messages);
    return new RoomMessages(
        messages, undecryptable, failures, hidden, newestFirst.size(), reachedStart);
  }

  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
