package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceTrust;
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
 *       requests not answered yet; at most {@link #MAX_REPLIES_PER_DEVICE_PER_MINUTE} replies per
 *       device per minute;
 *   <li>outgoing: a key we lack is requested from our own devices once, and the request is
 *       cancelled when the key arrives; a forwarded key is accepted only from our own verified
 *       devices and only for a session we asked for.
 * </ul>
 */
final class KeyRequests {
  /** Rate limit of replies (keys or refusals) to one device. */
  static final int MAX_REPLIES_PER_DEVICE_PER_MINUTE = 20;

  /** Bound on the rate-limit table: past it, idle entries are dropped. */
  static final int MAX_RATE_LIMITED_DEVICES = 10_000;

  /**
   * Open outgoing key requests (not yet answered) kept at most; further undecryptable sessions are
   * not requested until some are answered. Anyone in a room can send events naming made-up
   * sessions, and without a bound each would add a stored request and a to-device message to our
   * own devices. A single decryption batch can add its own requests on top (they are counted in the
   * store after its save).
   */
  static final int MAX_OPEN_KEY_REQUESTS = 1_000;

  /** Longest room or session id that gets a key request (Matrix ids are at most 255 bytes). */
  static final int MAX_ID_LENGTH = 255;

  private final Context ctx;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final GroupSessions groups;
  private final CrossSigning crossSigning;

  /** Verified requests waiting for an Olm session with the requester. */
  private final List<ObjectNode> waitingForSession = new ArrayList<>();

  private final Map<String, Deque<Long>> replies = new HashMap<>();

  /** The {@code sender_key} named by the request being answered (deprecated field), or null. */
  private String requestedSenderKey;

  /** Request id of sent to-device key requests / cancellations to the key request id. */
  private final Map<String, String> sentRequests = new HashMap<>();

  private final Map<String, String> sentCancellations = new HashMap<>();

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
    forwarded.put("shared_history", record.get().sharedHistory());
    ObjectNode encrypted = olm.encrypt(device.get(), "m.forwarded_room_key", forwarded, changes);
    ToDeviceBatcher batch = new ToDeviceBatcher(ctx, "m.room.encrypted");
    batch.add(sender, deviceId, encrypted);
    out.addAll(batch.build());
  }

  private void refuse(
      String user,
      String deviceId,
      String roomId,
      String sessionId,
      String code,
      List<OutgoingRequest> out) {
    String senderKey =
        groups
            .bestCopy(roomId, sessionId, requestedSenderKey)
            .map(InboundGroupSessionRecord::senderKey)
            .orElse(requestedSenderKey);
    if (!allowReply(user, deviceId)) {
      return;
    }
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
  }

  private boolean allowReply(String user, String deviceId) {
    long now = ctx.now();
    if (replies.size() > MAX_RATE_LIMITED_DEVICES) {
      replies.values().removeIf(t -> t.isEmpty() || now - t.peekLast() > 60_000);
    }
    Deque<Long> times = replies.computeIfAbsent(user + "|" + deviceId, k -> new ArrayDeque<>());
    while (!times.isEmpty() && now - times.peekFirst() > 60_000) {
      times.pollFirst();
    }
    if (times.size() >= MAX_REPLIES_PER_DEVICE_PER_MINUTE) {
      return false;
    }
    times.addLast(now);
    return true;
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
   * sane length, and while fewer than {@link #MAX_OPEN_KEY_REQUESTS} requests are open).
   */
  void want(String roomId, String sessionId, Changes changes) {
    if (roomId == null
        || roomId.isBlank()
        || roomId.length() > MAX_ID_LENGTH
        || sessionId == null
        || sessionId.isBlank()
        || sessionId.length() > MAX_ID_LENGTH
        || ctx.store.outgoingKeyRequestFor(roomId, sessionId).isPresent()
        || openKeyRequests() >= MAX_OPEN_KEY_REQUESTS) {
      return;
    }
    changes.putOutgoingKeyRequest(
        new OutgoingKeyRequest(ctx.newRequestId(), roomId, sessionId, KeyRequestState.UNSENT));
  }

  private int openKeyRequests() {
    return ctx.store.outgoingKeyRequests(KeyRequestState.UNSENT).size()
        + ctx.store.outgoingKeyRequests(KeyRequestState.SENT).size();
  }

  /**
   * Asks our own devices for a session now, even if we asked before (the caller decided to retry):
   * the returned request carries our existing key request id, or a new one.
   */
  OutgoingRequest requestNow(String roomId, String sessionId, Changes changes) {
    OutgoingKeyRequest r =
        ctx.store
            .outgoingKeyRequestFor(roomId, sessionId)
            .orElseGet(
                () -> {
                  OutgoingKeyRequest created =
                      new OutgoingKeyRequest(
                          ctx.newRequestId(), roomId, sessionId, KeyRequestState.UNSENT);
                  changes.putOutgoingKeyRequest(created);
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
    for (OutgoingKeyRequest r : ctx.store.outgoingKeyRequests(KeyRequestState.UNSENT)) {
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
      ctx.store
          .outgoingKeyRequest(keyRequest)
          .filter(r -> r.state() == KeyRequestState.UNSENT)
          .ifPresent(
              r ->
                  changes.putOutgoingKeyRequest(
                      new OutgoingKeyRequest(
                          r.requestId(), r.roomId(), r.sessionId(), KeyRequestState.SENT)));
    }
    String cancelled = sentCancellations.remove(requestId);
    if (cancelled != null) {
      changes.deleteOutgoingKeyRequest(cancelled);
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
    Optional<OutgoingKeyRequest> ours = ctx.store.outgoingKeyRequestFor(roomId, sessionId);
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
            c.path("shared_history").asBoolean(false),
            null,
            changes);
    OutgoingKeyRequest r = ours.get();
    changes.putOutgoingKeyRequest(
        new OutgoingKeyRequest(
            r.requestId(), r.roomId(), r.sessionId(), KeyRequestState.CANCELLATION_PENDING));
    return imported;
  }

  /**
   * A key we had asked for arrived another way (a plain {@code m.room_key}): cancel the request.
   */
  void onKeyArrived(String roomId, String sessionId, Changes changes) {
    ctx.store
        .outgoingKeyRequestFor(roomId, sessionId)
        .filter(r -> r.state() != KeyRequestState.CANCELLATION_PENDING)
        .ifPresent(
            r ->
                changes.putOutgoingKeyRequest(
                    new OutgoingKeyRequest(
                        r.requestId(),
                        r.roomId(),
                        r.sessionId(),
                        KeyRequestState.CANCELLATION_PENDING)));
  }

  /** Drops in-memory bookkeeping of a request that will not be acknowledged. */
  void forget(String requestId) {
    sentRequests.remove(requestId);
    sentCancellations.remove(requestId);
  }
}
