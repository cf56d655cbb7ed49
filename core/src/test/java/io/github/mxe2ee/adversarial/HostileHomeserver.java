package io.github.mxe2ee.adversarial;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.SyncChanges;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A homeserver under the attacker's control, for one machine under test: it answers every request
 * of the machine, but its {@code /keys/query} answers list exactly what the test decides (a device
 * omitted, a device id re-listed with the attacker's keys, a replaced master key), its {@code
 * /keys/claim} hands out one-time keys of whichever device it lists now, and it keeps every
 * to-device message the machine sends so the test can decrypt what reached the attacker. The
 * machine is real; only the server lies.
 */
final class HostileHomeserver {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final int MAX_ROUNDS = 20;

  /** What {@code /keys/query} lists: user → device id → device keys object. */
  private final Map<String, Map<String, ObjectNode>> listed = new LinkedHashMap<>();

  /** Who answers {@code /keys/claim} for a listed device: user → device id → device. */
  private final Map<String, Map<String, FakeDevice>> claimable = new HashMap<>();

  /**
   * Cross-signing keys served per user: user → {master_key, self_signing_key, user_signing_key}.
   */
  private final Map<String, ObjectNode> identities = new HashMap<>();

  /** Every to-device request the machine sent: {@code {event_type, body}}. */
  final List<ObjectNode> toDevice = new ArrayList<>();

  /** Lists {@code device} (with {@code json} as its keys object) under its own ids. */
  void list(FakeDevice device, ObjectNode json) {
    listed.computeIfAbsent(device.userId, u -> new LinkedHashMap<>()).put(device.deviceId, json);
    claimable.computeIfAbsent(device.userId, u -> new HashMap<>()).put(device.deviceId, device);
  }

  /** Lists {@code device} with its plain self-signed keys. */
  void list(FakeDevice device) {
    list(device, device.keysJson());
  }

  /** Lists the machine's own device with its real keys (as an honest server would). */
  void listOwn(OlmMachine machine) {
    ObjectNode json = machine.deviceKeys().toJson();
    listed
        .computeIfAbsent(machine.userId(), u -> new LinkedHashMap<>())
        .put(machine.deviceId(), json);
  }

  /** Stops listing a device (as if it had been deleted). */
  void omit(String userId, String deviceId) {
    Map<String, ObjectNode> devices = listed.get(userId);
    if (devices != null) {
      devices.remove(deviceId);
    }
  }

  /** Serves {@code keys} ({@code master_key}, {@code self_signing_key}, ...) as the user's. */
  void serveIdentity(String userId, ObjectNode keys) {
    identities.put(userId, keys.deepCopy());
  }

  /** Pushes a sync that says {@code user}'s devices changed, then serves every request. */
  void announceChange(OlmMachine machine, String user) {
    machine.receiveSyncChanges(
        new SyncChanges(List.of(), List.of(user), List.of(), null, null, null));
    serve(machine);
  }

  /** Delivers to-device events to the machine, then serves every request. */
  void deliver(OlmMachine machine, ObjectNode... events) {
    machine.receiveSyncChanges(
        new SyncChanges(List.of(events), List.of(), List.of(), null, null, null));
    serve(machine);
  }

  /** Answers the machine's outgoing requests until it has none. */
  void serve(OlmMachine machine) {
    for (int round = 0; round < MAX_ROUNDS; round++) {
      List<OutgoingRequest> requests = machine.outgoingRequests();
      if (requests.isEmpty()) {
        return;
      }
      for (OutgoingRequest r : requests) {
        send(machine, r);
      }
    }
    throw new IllegalStateException("the machine keeps producing requests");
  }

  /** Answers one request of the machine and feeds the answer back. */
  void send(OlmMachine machine, OutgoingRequest r) {
    machine.markRequestAsSent(r.requestId(), r.type(), answer(machine, r));
  }

  private ObjectNode answer(OlmMachine machine, OutgoingRequest r) {
    ObjectNode body = r.body();
    ObjectNode response = JSON.objectNode();
    switch (r.type()) {
      case KEYS_UPLOAD -> {
        JsonNode otks = body.path("one_time_keys");
        response.putObject("one_time_key_counts").put("signed_curve25519", otks.size() + 50);
        if (body.has("device_keys")) {
          ObjectNode own = (ObjectNode) body.get("device_keys").deepCopy();
          listed
              .computeIfAbsent(machine.userId(), u -> new LinkedHashMap<>())
              .putIfAbsent(machine.deviceId(), own);
        }
      }
      case KEYS_QUERY -> {
        ObjectNode devices = response.putObject("device_keys");
        ObjectNode masters = response.putObject("master_keys");
        ObjectNode selfs = response.putObject("self_signing_keys");
        ObjectNode users = response.putObject("user_signing_keys");
        response.putObject("failures");
        for (Iterator<String> it = body.path("device_keys").fieldNames(); it.hasNext(); ) {
          String user = it.next();
          ObjectNode out = devices.putObject(user);
          listed.getOrDefault(user, Map.of()).forEach((id, json) -> out.set(id, json.deepCopy()));
          ObjectNode id = identities.get(user);
          if (id != null) {
            masters.set(user, id.get("master_key").deepCopy());
            selfs.set(user, id.get("self_signing_key").deepCopy());
            if (id.has("user_signing_key") && user.equals(machine.userId())) {
              users.set(user, id.get("user_signing_key").deepCopy());
            }
          }
        }
      }
      case KEYS_CLAIM -> {
        ObjectNode out = response.putObject("one_time_keys");
        for (Iterator<Map.Entry<String, JsonNode>> users = body.path("one_time_keys").fields();
            users.hasNext(); ) {
          Map.Entry<String, JsonNode> user = users.next();
          for (Iterator<String> ids = user.getValue().fieldNames(); ids.hasNext(); ) {
            String deviceId = ids.next();
            FakeDevice d = claimable.getOrDefault(user.getKey(), Map.of()).get(deviceId);
            if (d != null && listed.getOrDefault(user.getKey(), Map.of()).containsKey(deviceId)) {
              ObjectNode forUser =
                  out.has(user.getKey())
                      ? (ObjectNode) out.get(user.getKey())
                      : out.putObject(user.getKey());
              forUser.set(deviceId, d.claimOneTimeKey());
            }
          }
        }
        response.putObject("failures");
      }
      case TO_DEVICE -> {
        ObjectNode sent = JSON.objectNode();
        sent.put("event_type", r.eventType());
        sent.set("body", body.deepCopy());
        toDevice.add(sent);
      }
      case SIGNING_KEYS_UPLOAD -> identities.put(machine.userId(), body.deepCopy());
      case SIGNATURE_UPLOAD -> {
        for (Iterator<Map.Entry<String, JsonNode>> users = body.fields(); users.hasNext(); ) {
          Map.Entry<String, JsonNode> user = users.next();
          for (Iterator<Map.Entry<String, JsonNode>> keys = user.getValue().fields();
              keys.hasNext(); ) {
            Map.Entry<String, JsonNode> key = keys.next();
            Map<String, ObjectNode> devices = listed.get(user.getKey());
            if (devices != null && devices.containsKey(key.getKey())) {
              devices.put(key.getKey(), (ObjectNode) key.getValue().deepCopy());
            }
          }
        }
        response.putObject("failures");
      }
      default -> {}
    }
    return response;
  }

  private final Map<FakeDevice, List<JsonNode>> received = new HashMap<>();
  private final Map<FakeDevice, Integer> readUpTo = new HashMap<>();

  /**
   * Every Olm payload the machine has sent to {@code device} so far, decrypted with the device's
   * own account (each message is decrypted once; later calls add what came since).
   */
  List<JsonNode> payloadsReceivedBy(FakeDevice device) {
    List<JsonNode> out = received.computeIfAbsent(device, d -> new ArrayList<>());
    int from = readUpTo.getOrDefault(device, 0);
    for (ObjectNode sent : toDevice.subList(from, toDevice.size())) {
      if (!"m.room.encrypted".equals(sent.path("event_type").asText())) {
        continue;
      }
      JsonNode content =
          sent.path("body").path("messages").path(device.userId).path(device.deviceId);
      if (content.isObject()) {
        JsonNode payload = device.decrypt(content);
        if (payload != null) {
          out.add(payload);
        }
      }
    }
    readUpTo.put(device, toDevice.size());
    return List.copyOf(out);
  }

  /** The types of the payloads {@code device} received ({@link #payloadsReceivedBy}). */
  List<String> typesReceivedBy(FakeDevice device) {
    return payloadsReceivedBy(device).stream().map(p -> p.path("type").asText()).toList();
  }

  /** A plaintext {@code m.room_key_request} from {@code requester} for one session. */
  static ObjectNode keyRequest(FakeDevice requester, String roomId, String sessionId) {
    ObjectNode event = JSON.objectNode();
    event.put("sender", requester.userId);
    event.put("type", "m.room_key_request");
    ObjectNode content = event.putObject("content");
    content.put("action", "request");
    content.put("request_id", "req-" + sessionId.hashCode());
    content.put("requesting_device_id", requester.deviceId);
    ObjectNode what = content.putObject("body");
    what.put("algorithm", "m.megolm.v1.aes-sha2");
    what.put("room_id", roomId);
    what.put("session_id", sessionId);
    return event;
  }
}
