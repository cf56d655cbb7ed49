package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.store.Changes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Processes the to-device events of one sync step (spec: {@code end_to_end_encryption.md},
 * "m.olm.v1.curve25519-aes-sha2" with its validation rules, "m.room_key", "Key requests",
 * "Reporting that decryption keys are withheld"). One handler per step.
 */
final class ToDeviceHandler {
  private final Context ctx;
  private final AccountKeys account;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final GroupSessions groups;
  private final KeyRequests keyRequests;
  private final SecretRequests secretRequests;
  private final RoomKeyBundles bundles;

  /** Devices whose Olm channel is wedged and may be replaced now, by user. */
  private final Map<String, List<DeviceKeys>> wedged = new LinkedHashMap<>();

  /** Events seen in this step (their JSON): a repeat is reported, not handled twice. */
  private final Set<String> seen = new HashSet<>();

  /** Keeps this step's withheld notices within their caps. */
  private final WithheldLimiter withheld;

  ToDeviceHandler(
      Context ctx,
      AccountKeys account,
      DeviceTracker devices,
      OlmSessions olm,
      GroupSessions groups,
      KeyRequests keyRequests,
      SecretRequests secretRequests,
      RoomKeyBundles bundles) {
    this.ctx = ctx;
    this.account = account;
    this.devices = devices;
    this.olm = olm;
    this.groups = groups;
    this.keyRequests = keyRequests;
    this.secretRequests = secretRequests;
    this.bundles = bundles;
    this.withheld = new WithheldLimiter(ctx);
  }

  /**
   * Processes one event. Bad input never fails the step: anything malformed that slips past the
   * checks below is reported as {@link ReceivedToDevice.Kind#INVALID}, and what the event changed
   * before that stays consistent (each change mirrors state already taken in memory). Store
   * failures still propagate.
   */
  ReceivedToDevice handle(ObjectNode event, Changes changes, List<OutgoingRequest> replies) {
    if (!seen.add(event.toString())) {
      // The same event twice in one batch (a server or sender retry): its effects already happened.
      ctx.counters.duplicatesIgnored++;
      return invalid(
          event.path("type").asText(null),
          event.path("sender").asText(null),
          null,
          "duplicate of an earlier event in this batch");
    }
    try {
      return dispatch(event, changes, replies);
    } catch (io.github.mxe2ee.store.StoreException e) {
      throw e;
    } catch (RuntimeException e) {
      return invalid(
          event.path("type").asText(null),
          event.path("sender").asText(null),
          null,
          "rejected: " + e.getClass().getSimpleName());
    }
  }

  private ReceivedToDevice dispatch(
      ObjectNode event, Changes changes, List<OutgoingRequest> replies) {
    String type = event.path("type").asText(null);
    String sender = event.path("sender").asText(null);
    JsonNode content = event.get("content");
    if (type == null || sender == null || content == null || !content.isObject()) {
      return invalid(type, sender, null, "malformed to-device event");
    }
    return switch (type) {
      case "m.room.encrypted" -> encrypted(event, sender, (ObjectNode) content, changes, replies);
      case "m.room_key_request" -> {
        keyRequests.onRequest(event, changes, replies);
        yield plaintext(type, sender, (ObjectNode) content);
      }
      case "m.secret.request" -> {
        secretRequests.onRequest(event, changes, replies);
        yield plaintext(type, sender, (ObjectNode) content);
      }
      case "m.room_key.withheld" -> {
        groups.onWithheld(content, sender, changes, withheld);
        yield plaintext(type, sender, (ObjectNode) content);
      }
      default -> plaintext(type, sender, (ObjectNode) content);
    };
  }

  private ReceivedToDevice encrypted(
      ObjectNode event,
      String sender,
      ObjectNode content,
      Changes changes,
      List<OutgoingRequest> replies) {
    if (!OlmSessions.OLM_ALGORITHM.equals(content.path("algorithm").asText())) {
      return invalid("m.room.encrypted", sender, null, "unsupported to-device algorithm");
    }
    String senderKey = content.path("sender_key").asText(null);
    OlmSessions.Decrypted decrypted;
    try {
      decrypted = olm.decrypt(sender, content, changes);
    } catch (OlmSessions.SessionLimitException e) {
      // Refused before any session was created; not a wedged channel either.
      ctx.counters.olmSessionsRefused++;
      return new ReceivedToDevice(
          ReceivedToDevice.Kind.UNABLE_TO_DECRYPT,
          "m.room.encrypted",
          sender,
          null,
          senderKey,
          null,
          e.kind() + ": " + e.getMessage());
    } catch (Mxe2eeException e) {
      noteWedged(sender, senderKey, changes);
      return new ReceivedToDevice(
          ReceivedToDevice.Kind.UNABLE_TO_DECRYPT,
          "m.room.encrypted",
          sender,
          null,
          senderKey,
          null,
          e.kind() + ": " + e.getMessage());
    }
    OlmPayload payload;
    try {
      payload =
          OlmPayload.validate(
              Context.parseObject(decrypted.plaintext()),
              sender,
              Curve25519PublicKey.fromBase64(senderKey),
              ctx.userId(),
              account.account().ed25519Key());
    } catch (Mxe2eeException e) {
      ctx.counters.olmPayloadsRejected++;
      return invalid("m.room.encrypted", sender, senderKey, e.getMessage());
    }
    Optional<DeviceKeys> known = devices.deviceByCurveKey(sender, senderKey);
    if (known.isPresent() && !known.get().ed25519().equals(payload.senderEd25519())) {
      ctx.counters.olmPayloadsRejected++;
      return invalid(
          payload.type(), sender, senderKey, "Ed25519 key differs from the known device");
    }
    // Every check passed: only now does a session this message created exist (spec: an Olm
    // session is persisted only after a successful decrypt and payload check).
    olm.commit(decrypted, changes);
    String deviceId =
        known
            .map(DeviceKeys::deviceId)
            .orElse(
                payload.senderDeviceKeys() == null ? null : payload.senderDeviceKeys().deviceId());
    ObjectNode shown = payload.content();
    switch (payload.type()) {
      case "m.room_key" -> {
        // Authenticated for (room, this Olm channel's key, session id) only: the key binds to the
        // device and user it came from, never to a session id alone.
        if (groups.importRoomKey(
            shown, senderKey, payload.senderEd25519().toBase64(), sender, changes)) {
          keyRequests.onKeyArrived(
              shown.path("room_id").asText(), shown.path("session_id").asText(), changes);
        }
        shown.remove("session_key");
      }
      case "m.forwarded_room_key" -> {
        keyRequests.onForwardedKey(payload, senderKey, changes);
        shown.remove("session_key");
      }
      case RoomKeyBundles.EVENT_TYPE, RoomKeyBundles.UNSTABLE_EVENT_TYPE -> {
        bundles.onBundle(shown, sender, senderKey, payload, changes);
        shown.remove("file"); // its key decrypts session keys: see receivedRoomKeyBundle
      }
      default -> {}
    }
    return new ReceivedToDevice(
        ReceivedToDevice.Kind.DECRYPTED, payload.type(), sender, deviceId, senderKey, shown, null);
  }

  private void noteWedged(String sender, String senderKey, Changes changes) {
    if (senderKey == null) {
      return;
    }
    Optional<DeviceKeys> device = devices.deviceByCurveKey(sender, senderKey);
    if (device.isPresent() && olm.mayUnwedge(senderKey, changes)) {
      wedged.computeIfAbsent(sender, k -> new ArrayList<>()).add(device.get());
    }
  }

  /** Devices to replace wedged sessions with, by user; empty if none. */
  Map<String, List<DeviceKeys>> wedgedDevices() {
    return wedged;
  }

  private static ReceivedToDevice plaintext(String type, String sender, ObjectNode content) {
    return new ReceivedToDevice(
        ReceivedToDevice.Kind.PLAINTEXT, type, sender, null, null, content, null);
  }

  private static ReceivedToDevice invalid(
      String type, String sender, String senderKey, String why) {
    return new ReceivedToDevice(
        ReceivedToDevice.Kind.INVALID, type, sender, null, senderKey, null, why);
  }
}
