package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.megolm.ExportedSessionKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import io.github.mxe2ee.store.KeyRequestState;
import io.github.mxe2ee.store.OutgoingKeyRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Room key requests, with the product's policy (spec: {@code end_to_end_encryption.md}, "Key
 * requests"; ARCHITECTURE.md, "Policies that are the product"):
 *
 * <ul>
 *   <li>incoming {@code m.room_key_request} is answered with {@code m.forwarded_room_key} only for
 *       our own devices that are verified; our own unverified devices get {@code
 *       m.room_key.withheld} {@code m.unverified} (blacklisted ones {@code m.blacklisted}), other
 *       users {@code m.unauthorised}, unknown sessions {@code m.unavailable}; cancellations drop
 *       requests not answered yet; replies are bounded per requesting device, per user and overall
 *       per minute ({@link MachineLimits}), checked before anything is built, and a request naming
 *       an id over {@link MachineLimits#MAX_ID_LENGTH} is dropped, never echoed;
 *   <li>outgoing: a key we lack is requested from our own devices once, and the request is
 *       cancelled when the key arrives; a forwarded key is accepted only from our own verified
 *       devices and only for a session we asked for. At most {@link
 *       MachineLimits#MAX_OPEN_KEY_REQUESTS} are open, counted with the requests the current step
 *       is adding, and a session is requested once even if one step sees it many times.
 * </ul>
 */
final class KeyRequests {
  /**
   * Rate limit of replies (keys or refusals) to one device: the default of {@link MachineLimits}.
   */
  static final int MAX_REPLIES_PER_DEVICE_PER_MINUTE =
      MachineLimits.DEFAULT.maxKeyRequestRepliesPerDevicePerMinute();

  private static final long MINUTE_MS = 60_000;

  /** Bound on the rate-limit table: past it, idle entries are dropped. */
  static final int MAX_RATE_LIMITED_DEVICES = 10_000;

  /** See {@link MachineLimits#MAX_OPEN_KEY_REQUESTS}. */
  static final int MAX_OPEN_KEY_REQUESTS = MachineLimits.MAX_OPEN_KEY_REQUESTS;

  /** See {@link MachineLimits#MAX_ID_LENGTH}. */
  static final int MAX_ID_LENGTH = MachineLimits.MAX_ID_LENGTH;

  private final Context ctx;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final GroupSessions groups;
  private final CrossSigning crossSigning;

  /** Verified requests waiting for an Olm session with the requester. */
  private final List<ObjectNode> waitingForSession = new ArrayList<>();

  /** Reply times in the last minute: by requesting device, by user, and overall. */
  private final Map<String, Deque<Long>> replies = new HashMap<>();

  private final Map<String, Deque<Long>> repliesByUser = new HashMap<>();
  private final Deque<Long> allReplies = new ArrayDeque<>();

  /**
   * Outgoing key requests written since the last save, by room and session (empty: deleted): the
   * store does not hold them yet, so every "is it requested?" check looks here first. Cleared by
   * {@link #afterSave}; rebuilt with the machine after a failed step.
   */
  private final Map<String, Optional<OutgoingKeyRequest>> written = new HashMap<>();

  /** Open (unsent or sent) requests including {@link #written}; -1 until first counted. */
  private int open = -1;

  /** The {@code sender_key} named by the request being answered (deprecated field), or null. */
  private String requestedSenderKey;

  /** Request id of sent to-device key requests / cancellations to the key request id. */
  private final Map<String, String> sentRequests = new HashMap<>();

  private final Map<String, String> sentCancellations = new HashMap<>();

  /**
   * When each key request recorded by {@link #want} in this run was recorded, while younger than
   * the delay ({@link OlmMachine#setKeyRequestDelay}): such requests are not sent yet. At most
   * {@link #MAX_OPEN_KEY_REQUESTS} entries (one per open request); in memory, so after a restart or
   * a failed step the stored requests go out at once.
   */
  private final Map<String, Long> wantedAt = new HashMap<>();

  KeyRequests(
      Context ctx,
      DeviceTracker devices,
      OlmSessions olm,
      GroupSessions groups,
      CrossSigning crossSigning) {
    this.ctx = ctx;
    this.devices = devices;
    this.olm = olm;
    this.groups = groups;
    this.crossSigning = crossSigning;
  }

  // ------------------------------------------------------------ incoming

  /** Handles one plaintext {@code m.room_key_request}; replies go into {@code out}. */
  void onRequest(ObjectNode event, Changes changes, List<OutgoingRequest> out) {
    JsonNode content = event.path("content");
    String sender = event.path("sender").asText("");
    String deviceId = content.path("requesting_device_id").asText(null);
    String requestId = content.path("request_id").asText(null);
    if (deviceId == null || requestId == null) {
      return;
    }
    if (!MachineLimits.saneId(deviceId) || !MachineLimits.saneId(requestId)) {
      ctx.counters.malformedIdsDropped++;
      return;
    }
    if ("request_cancellation".equals(content.path("action").asText())) {
      waitingForSession.removeIf(
          w ->
              w.path("sender").asText().equals(sender)
                  && w.path("content").path("requesting_device_id").asText().equals(deviceId)
                  && w.path("content").path("request_id").asText().equals(requestId));
      return;
    }
    if (!"request".equals(content.path("action").asText())
        || (sender.equals(ctx.userId()) && deviceId.equals(ctx.deviceId()))) {
      return;
    }
    answer(event.deepCopy(), changes, out);
  }

  private void answer(ObjectNode event, Changes changes, List<OutgoingRequest> out) {
    String sender = event.path("sender").asText();
    JsonNode content = event.path("content");
    String deviceId = content.path("requesting_device_id").asText();
    JsonNode body = content.path("body");
    String roomId = body.path("room_id").asText(null);
    String sessionId = body.path("session_id").asText(null);
    if (roomId == null || sessionId == null) {
      return;
    }
    requestedSenderKey = body.path("sender_key").asText(null);
    if (!MachineLimits.saneId(roomId)
        || !MachineLimits.saneId(sessionId)
        || (requestedSenderKey != null && !MachineLimits.saneId(requestedSenderKey))) {
      // Never stored or echoed back: a 10 MiB id would become a 10 MiB reply.
      ctx.counters.malformedIdsDropped++;
      return;
    }
    if (!sender.equals(ctx.userId())) {
      // Refuse only devices we know: otherwise anyone could make us send notices to made-up ids.
      if (devices.devices(sender).containsKey(deviceId)) {
        refuse(sender, deviceId, roomId, sessionId, WithheldCodes.UNAUTHORISED, out);
      }
      return;
    }
    Optional<DeviceKeys> device = Optional.ofNullable(devices.devices(sender).get(deviceId));
    if (device.isEmpty()) {
      return;
    }
    if (ctx.config.keyRequestPolicy() == KeyRequestPolicy.NONE) {
      refuse(sender, deviceId, roomId, sessionId, WithheldCodes.UNAUTHORISED, out);
      return;
    }
    DeviceTrust trust = devices.trust(sender, device.get(), crossSigning.holdsMasterKey());
    if (!trust.isVerified()) {
      refuse(
          sender,
          deviceId,
          roomId,
          sessionId,
          trust == DeviceTrust.BLACKLISTED ? WithheldCodes.BLACKLISTED : WithheldCodes.UNVERIFIED,
          out);
      return;
    }
    Optional<InboundGroupSessionRecord> record =
        groups.bestCopy(roomId, sessionId, requestedSenderKey);
    if (record.isEmpty()) {
      refuse(sender, deviceId, roomId, sessionId, WithheldCodes.UNAVAILABLE, out);
      return;
    }
    if (!olm.hasSession(device.get().curve25519().toBase64())) {
      waitForSession(event);
      return;
    }
    if (!allowReply(sender, deviceId)) {
      return;
    }
    InboundGroupSession session = groups.loadInbound(GroupSessions.SessionRef.of(record.get()));
    ObjectNode forwarded = Context.object();
    forwarded.put("algorithm", GroupSessions.MEGOLM_ALGORITHM);
    forwarded.put("room_id", roomId);
    forwarded.put("session_id", sessionId);
    forwarded.put("session_key", session.exportAtFirstKnownIndex().toBase64());
    forwarded.put("sender_key", record.get().senderKey());
    forwarded.put("sender_claimed_ed25519_key", record.get().signingKey());
    forwarded.putArray("forwarding_curve25519_key_chain");
    ExportedRoomKey.writeSharedHistory(forwarded, record.get().sharedHistory());
    ObjectNode encrypted = olm.encrypt(device.get(), "m.forwarded_room_key", forwarded, changes);
    ToDeviceBatcher batch = new ToDeviceBatcher(ctx, "m.room.encrypted");
    batch.add(sender, deviceId, encrypted);
    out.addAll(batch.build());
    ctx.events.add(o -> o.keyRequestAnswered(sender, deviceId));
  }

  private void refuse(
      String user,
      String deviceId,
      String roomId,
      String sessionId,
      String code,
      List<OutgoingRequest> out) {
    if (!allowReply(user, deviceId)) {
      return;
    }
    String senderKey =
        groups
            .bestCopy(roomId, sessionId, requestedSenderKey)
            .map(InboundGroupSessionRecord::senderKey)
            .orElse(requestedSenderKey);
    ObjectNode c = Context.object();
    c.put("algorithm", GroupSessions.MEGOLM_ALGORITHM);
    c.put("room_id", roomId);
    c.put("session_id", sessionId);
    if (senderKey != null) {
      c.put("sender_key", senderKey);
    }
    c.put("from_device", ctx.deviceId());
    c.put("code", code);
    c.put("reason", WithheldCodes.reason(code));
    ToDeviceBatcher batch = new ToDeviceBatcher(ctx, "m.room_key.withheld");
    batch.add(user, deviceId, c);
    out.addAll(batch.build());
    ctx.events.add(o -> o.keyRequestRefused(code));
    ctx.events.add(o -> o.withheldSent(code, 1));
  }

  /**
   * Whether one more reply to this device may be queued now: within the per-device, per-user and
   * overall limits per minute. Only a reply that is allowed is recorded, so the tables hold at most
   * the overall limit of recent entries (idle ones are dropped when they grow).
   */
  boolean allowReply(String user, String deviceId) {
    long now = ctx.now();
    MachineLimits limits = ctx.limits;
    trim(allReplies, now);
    if (replies.size() > MAX_RATE_LIMITED_DEVICES) {
      replies.values().removeIf(t -> t.isEmpty() || now - t.peekLast() > MINUTE_MS);
    }
    if (repliesByUser.size() > MAX_RATE_LIMITED_DEVICES) {
      repliesByUser.values().removeIf(t -> t.isEmpty() || now - t.peekLast() > MINUTE_MS);
    }
    Deque<Long> ofDevice = replies.get(user + "|" + deviceId);
    Deque<Long> ofUser = repliesByUser.get(user);
    if (ofDevice != null) {
      trim(ofDevice, now);
    }
    if (ofUser != null) {
      trim(ofUser, now);
    }
    if (allReplies.size() >= limits.maxKeyRequestRepliesPerMinute()
        || (ofUser != null && ofUser.size() >= limits.maxKeyRequestRepliesPerUserPerMinute())
        || (ofDevice != null
            && ofDevice.size() >= limits.maxKeyRequestRepliesPerDevicePerMinute())) {
      ctx.counters.keyRequestRepliesDropped++;
      return false;
    }
    allReplies.addLast(now);
    repliesByUser.computeIfAbsent(user, k -> new ArrayDeque<>()).addLast(now);
    replies.computeIfAbsent(user + "|" + deviceId, k -> new ArrayDeque<>()).addLast(now);
    return true;
  }

  private static void trim(Deque<Long> times, long now) {
    while (!times.isEmpty() && now - times.peekFirst() > MINUTE_MS) {
      times.pollFirst();
    }
  }

  /** Devices whose requests wait for an Olm session, for a claim. */
  Map<String, List<DeviceKeys>> devicesWaitingForSession() {
    Map<String, List<DeviceKeys>> out = new HashMap<>();
    for (ObjectNode w : waitingForSession) {
      String user = w.path("sender").asText();
      DeviceKeys d =
          devices.devices(user).get(w.path("content").path("requesting_device_id").asText());
      if (d != null) {
        out.computeIfAbsent(user, k -> new ArrayList<>()).add(d);
      }
    }
    return out;
  }

  /**
   * Answers the requests that waited for an Olm session whose requester now has one. The others
   * keep waiting, unless {@code giveUp} (a claim for them came back without a usable key): they are
   * dropped, so that a device without one-time keys is not claimed for forever.
   */
  void retryWaiting(boolean giveUp, Changes changes, List<OutgoingRequest> out) {
    List<ObjectNode> retry = new ArrayList<>(waitingForSession);
    waitingForSession.clear();
    for (ObjectNode event : retry) {
      String user = event.path("sender").asText();
      DeviceKeys d =
          devices.devices(user).get(event.path("content").path("requesting_device_id").asText());
      if (d == null) {
        continue;
      }
      if (olm.hasSession(d.curve25519().toBase64())) {
        answer(event, changes, out);
      } else if (!giveUp) {
        waitingForSession.add(event);
      }
    }
  }

  private void waitForSession(ObjectNode event) {
    String sender = event.path("sender").asText();
    JsonNode c = event.path("content");
    boolean known =
        waitingForSession.stream()
            .anyMatch(
                w ->
                    w.path("sender").asText().equals(sender)
                        && w.path("content")
                            .path("requesting_device_id")
                            .equals(c.path("requesting_device_id"))
                        && w.path("content").path("request_id").equals(c.path("request_id")));
    if (!known) {
      waitingForSession.add(event);
    }
  }

  // ------------------------------------------------------------ outgoing

  /**
   * Records that we want the key of a session we cannot decrypt (once per session, for ids of a
   * sane length, and while fewer than {@link #MAX_OPEN_KEY_REQUESTS} requests are open, counting
   * those this step already added).
   */
  void want(String roomId, String sessionId, Changes changes) {
    if (roomId == null
        || roomId.isBlank()
        || !MachineLimits.saneId(roomId)
        || sessionId == null
        || sessionId.isBlank()
        || !MachineLimits.saneId(sessionId)
        || requestFor(roomId, sessionId).isPresent()) {
      return;
    }
    if (openKeyRequests() >= MAX_OPEN_KEY_REQUESTS) {
      ctx.counters.keyRequestsNotQueued++;
      return;
    }
    OutgoingKeyRequest r =
        new OutgoingKeyRequest(ctx.newRequestId(), roomId, sessionId, KeyRequestState.UNSENT);
    putRequest(r, changes);
    if (ctx.keyRequestDelayMs > 0) {
      wantedAt.put(r.requestId(), ctx.now());
    }
  }

  private static String key(String roomId, String sessionId) {
    return roomId + "\u0000" + sessionId;
  }

  /** The request for a session, as this step sees it (its own writes first, then the store). */
  private Optional<OutgoingKeyRequest> requestFor(String roomId, String sessionId) {
    Optional<OutgoingKeyRequest> w = written.get(key(roomId, sessionId));
    return w != null ? w : ctx.store.outgoingKeyRequestFor(roomId, sessionId);
  }

  private Optional<OutgoingKeyRequest> requestById(String requestId) {
    for (Optional<OutgoingKeyRequest> w : written.values()) {
      if (w.isPresent() && w.get().requestId().equals(requestId)) {
        return w;
      }
    }
    return ctx.store
        .outgoingKeyRequest(requestId)
        .filter(r -> !written.containsKey(key(r.roomId(), r.sessionId())));
  }

  private static boolean isOpen(OutgoingKeyRequest r) {
    return r.state() == KeyRequestState.UNSENT || r.state() == KeyRequestState.SENT;
  }

  /** Writes a request into {@code changes} and the step's view, keeping the open count exact. */
  private void putRequest(OutgoingKeyRequest r, Changes changes) {
    int count = openKeyRequests();
    Optional<OutgoingKeyRequest> before = requestFor(r.roomId(), r.sessionId());
    if (before.isPresent() && isOpen(before.get())) {
      count--;
    }
    if (isOpen(r)) {
      count++;
    }
    open = count;
    written.put(key(r.roomId(), r.sessionId()), Optional.of(r));
    changes.putOutgoingKeyRequest(r);
  }

  private void deleteRequest(String requestId, Changes changes) {
    requestById(requestId)
        .ifPresent(
            r -> {
              if (isOpen(r)) {
                open = openKeyRequests() - 1;
              }
              written.put(key(r.roomId(), r.sessionId()), Optional.empty());
            });
    changes.deleteOutgoingKeyRequest(requestId);
  }

  private int openKeyRequests() {
    if (open < 0) {
      open =
          ctx.store.outgoingKeyRequests(KeyRequestState.UNSENT).size()
              + ctx.store.outgoingKeyRequests(KeyRequestState.SENT).size();
    }
    return open;
  }

  /** The step's changes were saved: the store now answers for them. */
  void afterSave() {
    written.clear();
  }

  /**
   * Asks our own devices for a session now, even if we asked before (the caller decided to retry):
   * the returned request carries our existing key request id, or a new one.
   */
  OutgoingRequest requestNow(String roomId, String sessionId, Changes changes) {
    OutgoingKeyRequest r =
        requestFor(roomId, sessionId)
            .orElseGet(
                () -> {
                  OutgoingKeyRequest created =
                      new OutgoingKeyRequest(
                          ctx.newRequestId(), roomId, sessionId, KeyRequestState.UNSENT);
                  putRequest(created, changes);
                  return created;
                });
    sentRequests.values().remove(r.requestId());
    OutgoingRequest req = toOwnDevices(r, "request");
    sentRequests.put(req.requestId(), r.requestId());
    return req;
  }

  /** To-device requests for unsent key requests and pending cancellations. */
  List<OutgoingRequest> requests() {
    List<OutgoingRequest> out = new ArrayList<>();
    long now = ctx.now();
    wantedAt.values().removeIf(t -> now - t >= ctx.keyRequestDelayMs);
    for (OutgoingKeyRequest r : ctx.store.outgoingKeyRequests(KeyRequestState.UNSENT)) {
      if (wantedAt.containsKey(r.requestId())) {
        continue; // the key may still arrive by itself: asked once the delay has passed
      }
      if (!sentRequests.containsValue(r.requestId())) {
        OutgoingRequest req = toOwnDevices(r, "request");
        sentRequests.put(req.requestId(), r.requestId());
        out.add(req);
      }
    }
    for (OutgoingKeyRequest r :
        ctx.store.outgoingKeyRequests(KeyRequestState.CANCELLATION_PENDING)) {
      if (!sentCancellations.containsValue(r.requestId())) {
        OutgoingRequest req = toOwnDevices(r, "request_cancellation");
        sentCancellations.put(req.requestId(), r.requestId());
        out.add(req);
      }
    }
    return out;
  }

  private OutgoingRequest toOwnDevices(OutgoingKeyRequest r, String action) {
    ObjectNode content = Context.object();
    content.put("action", action);
    content.put("requesting_device_id", ctx.deviceId());
    content.put("request_id", r.requestId());
    if (action.equals("request")) {
      ObjectNode body = content.putObject("body");
      body.put("algorithm", GroupSessions.MEGOLM_ALGORITHM);
      body.put("room_id", r.roomId());
      body.put("session_id", r.sessionId());
    }
    ObjectNode messages = Context.object();
    messages.putObject("messages").putObject(ctx.userId()).set("*", content);
    return new OutgoingRequest(
        ctx.newRequestId(), RequestType.TO_DEVICE, messages, "m.room_key_request");
  }

  /** A to-device request was acknowledged: advance the key request it carried, if any. */
  void onToDeviceSent(String requestId, Changes changes) {
    String keyRequest = sentRequests.remove(requestId);
    if (keyRequest != null) {
      requestById(keyRequest)
          .filter(r -> r.state() == KeyRequestState.UNSENT)
          .ifPresent(
              r ->
                  putRequest(
                      new OutgoingKeyRequest(
                          r.requestId(), r.roomId(), r.sessionId(), KeyRequestState.SENT),
                      changes));
    }
    String cancelled = sentCancellations.remove(requestId);
    if (cancelled != null) {
      deleteRequest(cancelled, changes);
    }
  }

  /**
   * Handles a decrypted {@code m.forwarded_room_key}: imported only if it comes from our own
   * verified device and answers a request of ours; then our request is cancelled.
   *
   * @return true if imported
   */
  boolean onForwardedKey(OlmPayload payload, String senderCurve25519, Changes changes) {
    if (!payload.sender().equals(ctx.userId())) {
      return false;
    }
    Optional<DeviceKeys> from = devices.deviceByCurveKey(ctx.userId(), senderCurve25519);
    if (from.isEmpty()
        || !devices.trust(ctx.userId(), from.get(), crossSigning.holdsMasterKey()).isVerified()) {
      return false;
    }
    JsonNode c = payload.content();
    String roomId = c.path("room_id").asText(null);
    String sessionId = c.path("session_id").asText(null);
    if (roomId == null || sessionId == null) {
      return false;
    }
    Optional<OutgoingKeyRequest> ours = requestFor(roomId, sessionId);
    if (ours.isEmpty()) {
      return false;
    }
    InboundGroupSession session;
    try {
      session =
          InboundGroupSession.fromExportedSessionKey(
              ExportedSessionKey.fromBase64(c.path("session_key").asText("")));
    } catch (Mxe2eeException e) {
      return false;
    }
    boolean imported =
        groups.keepIfBetter(
            new GroupSessions.SessionRef(roomId, c.path("sender_key").asText(), sessionId),
            session,
            c.path("sender_claimed_ed25519_key").asText(),
            ExportedRoomKey.readSharedHistory(c),
            null,
            changes);
    OutgoingKeyRequest r = ours.get();
    putRequest(
        new OutgoingKeyRequest(
            r.requestId(), r.roomId(), r.sessionId(), KeyRequestState.CANCELLATION_PENDING),
        changes);
    return imported;
  }

  /**
   * A key we had asked for arrived another way (a plain {@code m.room_key}): cancel the request.
   */
  void onKeyArrived(String roomId, String sessionId, Changes changes) {
    requestFor(roomId, sessionId)
        .filter(r -> r.state() != KeyRequestState.CANCELLATION_PENDING)
        .ifPresent(
            r ->
                putRequest(
                    new OutgoingKeyRequest(
                        r.requestId(),
                        r.roomId(),
                        r.sessionId(),
                        KeyRequestState.CANCELLATION_PENDING),
                    changes));
  }

  /** Drops in-memory bookkeeping of a request that will not be acknowledged. */
  void forget(String requestId) {
    sentRequests.remove(requestId);
    sentCancellations.remove(requestId);
  }
}
