package io.github.mxe2ee.adversarial;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.json.JsonSigning;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.ReceivedToDevice;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.machine.SyncChanges;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.Session;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The bot under attack: a real {@link OlmMachine} on a real SQLite store, driven directly (no
 * router), with a hand-moved clock. It answers its own {@code /keys/upload} and {@code /keys/query}
 * requests from {@link #devices}, which the tests fill with attacker devices built from real Olm
 * accounts (valid, self-signed device keys). Everything else the machine wants to send is returned
 * to the test to count.
 */
final class FloodBot implements AutoCloseable {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final String BOT = "@bot:localhost";
  static final String BOT_DEVICE = "BOTDEVICE";
  static final String ROOM = "!room:localhost";

  final MovableClock clock = new MovableClock(1_700_000_000_000L);
  final Path file;
  final SqliteCryptoStore store;
  final OlmMachine machine;

  /** Device keys the fake server answers {@code /keys/query} with, by user and device. */
  final Map<String, Map<String, ObjectNode>> devices = new HashMap<>();

  /** The first key upload body the machine sent (its one-time and fallback keys). */
  ObjectNode lastUpload;

  FloodBot(Path dir) {
    this(dir, c -> c);
  }

  FloodBot(Path dir, UnaryOperator<MachineConfig> configure) {
    file = dir.resolve("bot.db");
    store = SqliteCryptoStore.open(file, AccountId.of(BOT, BOT_DEVICE));
    byte[] key = new byte[32];
    key[0] = 7;
    machine =
        OlmMachine.open(
            configure.apply(MachineConfig.of(BOT, BOT_DEVICE, key).withClock(clock)), store);
    // A fresh account asks the server for its own device's keys before it uploads them.
    for (int round = 0; round < 4 && lastUpload == null; round++) {
      pump();
    }
  }

  /**
   * Sends everything the machine wants: uploads and queries are answered here, the rest is returned
   * (to-device messages, claims, ...) without being acknowledged.
   */
  List<OutgoingRequest> pump() {
    List<OutgoingRequest> other = new ArrayList<>();
    for (OutgoingRequest r : machine.outgoingRequests()) {
      switch (r.type()) {
        case KEYS_UPLOAD -> {
          if (lastUpload == null) {
            lastUpload = r.body().deepCopy();
          }
          ObjectNode counts = MAPPER.createObjectNode();
          counts.putObject("one_time_key_counts").put("signed_curve25519", 50);
          machine.markRequestAsSent(r.requestId(), r.type(), counts);
        }
        case KEYS_QUERY -> machine.markRequestAsSent(r.requestId(), r.type(), queryAnswer(r));
        default -> other.add(r);
      }
    }
    return other;
  }

  private ObjectNode queryAnswer(OutgoingRequest r) {
    ObjectNode answer = MAPPER.createObjectNode();
    ObjectNode keys = answer.putObject("device_keys");
    answer.putObject("failures");
    for (Iterator<String> it = r.body().path("device_keys").fieldNames(); it.hasNext(); ) {
      String user = it.next();
      ObjectNode ofUser = keys.putObject(user);
      devices.getOrDefault(user, Map.of()).forEach(ofUser::set);
    }
    return answer;
  }

  /** Makes the bot track {@code user} and learn its devices now. */
  void learn(String user) {
    machine.updateTrackedUsers(List.of(user));
    pump();
  }

  /** Processes to-device events as one sync. */
  List<ReceivedToDevice> sync(List<ObjectNode> toDevice) {
    return machine.receiveSyncChanges(
        new SyncChanges(toDevice, List.of(), List.of(), null, null, null));
  }

  /** Total to-device messages of {@code eventType} in {@code requests}. */
  static int messages(List<OutgoingRequest> requests, String eventType) {
    int n = 0;
    for (OutgoingRequest r : requests) {
      if (r.type() == RequestType.TO_DEVICE && eventType.equals(r.eventType())) {
        for (JsonNode user : r.body().path("messages")) {
          n += user.size();
        }
      }
    }
    return n;
  }

  /** Our Curve25519 identity key. */
  Curve25519PublicKey curve() {
    return machine.identityKeys().curve25519();
  }

  /** Our {@code i}-th published one-time key, from the first upload. */
  Curve25519PublicKey oneTimeKey(int i) {
    Iterator<JsonNode> keys = lastUpload.path("one_time_keys").elements();
    for (int k = 0; k < i; k++) {
      keys.next();
    }
    return Curve25519PublicKey.fromBase64(keys.next().path("key").asText());
  }

  /** Rows of {@code table} matching {@code where} in the SQLite file, read with plain JDBC. */
  long rows(String table, String where) {
    try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
        java.sql.ResultSet rs =
            c.createStatement().executeQuery("SELECT count(*) FROM " + table + " WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Our published fallback key, from the first upload that carried one. */
  Curve25519PublicKey fallbackKey() {
    return Curve25519PublicKey.fromBase64(
        lastUpload.path("fallback_keys").elements().next().path("key").asText());
  }

  @Override
  public void close() {
    machine.close();
    store.close();
  }

  /** A device of a remote user, made from a real Olm account. */
  static final class Peer {
    final String userId;
    final String deviceId;
    final Account account = Account.create();
    final ObjectNode keys;

    Peer(String userId, String deviceId) {
      this.userId = userId;
      this.deviceId = deviceId;
      keys = MAPPER.createObjectNode();
      keys.put("user_id", userId).put("device_id", deviceId);
      keys.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
      keys.putObject("keys")
          .put("curve25519:" + deviceId, account.curve25519Key().toBase64())
          .put("ed25519:" + deviceId, account.ed25519Key().toBase64());
      String sig = account.sign(JsonSigning.signedBytes(keys)).toBase64();
      keys.putObject("signatures").putObject(userId).put("ed25519:" + deviceId, sig);
    }

    /** Registers this device with the fake server of {@code bot}. */
    Peer on(FloodBot bot) {
      bot.devices.computeIfAbsent(userId, u -> new LinkedHashMap<>()).put(deviceId, keys);
      return this;
    }

    /** A plaintext {@code m.room_key_request} from this device. */
    ObjectNode keyRequest(String requestId, String roomId, String sessionId) {
      ObjectNode content = MAPPER.createObjectNode();
      content.put("action", "request");
      content.put("request_id", requestId);
      content.put("requesting_device_id", deviceId);
      ObjectNode body = content.putObject("body");
      body.put("algorithm", "m.megolm.v1.aes-sha2");
      body.put("room_id", roomId);
      body.put("session_id", sessionId);
      return event("m.room_key_request", content);
    }

    /** A plaintext {@code m.room_key.withheld} from this device. */
    ObjectNode withheld(String roomId, String sessionId) {
      ObjectNode content = MAPPER.createObjectNode();
      content.put("algorithm", "m.megolm.v1.aes-sha2");
      content.put("room_id", roomId);
      content.put("session_id", sessionId);
      content.put("sender_key", account.curve25519Key().toBase64());
      content.put("code", "m.unverified");
      content.put("reason", "not verified");
      return event("m.room_key.withheld", content);
    }

    /** An Olm to-device event carrying {@code message} for {@code to}. */
    ObjectNode olm(Curve25519PublicKey to, AnyOlmMessage message) {
      ObjectNode content = MAPPER.createObjectNode();
      content.put("algorithm", "m.olm.v1.curve25519-aes-sha2");
      content.put("sender_key", account.curve25519Key().toBase64());
      ObjectNode c = content.putObject("ciphertext").putObject(to.toBase64());
      c.put("type", message.type().wireType());
      c.put("body", message.toBase64());
      return event("m.room.encrypted", content);
    }

    /** A payload for the bot, encrypted on {@code session}. */
    ObjectNode olmPayload(FloodBot bot, Session session, String type, ObjectNode content) {
      ObjectNode payload = MAPPER.createObjectNode();
      payload.put("type", type);
      payload.set("content", content);
      payload.put("sender", userId);
      payload.put("recipient", BOT);
      payload
          .putObject("recipient_keys")
          .put("ed25519", bot.machine.identityKeys().ed25519().toBase64());
      payload.putObject("keys").put("ed25519", account.ed25519Key().toBase64());
      payload.set("sender_device_keys", keys.deepCopy());
      return olm(bot.curve(), session.encrypt(payload.toString()));
    }

    ObjectNode event(String type, ObjectNode content) {
      ObjectNode e = MAPPER.createObjectNode();
      e.put("type", type);
      e.put("sender", userId);
      e.set("content", content);
      return e;
    }
  }

  /** A clock the tests move by hand. */
  static final class MovableClock extends Clock {
    private long millis;

    MovableClock(long start) {
      millis = start;
    }

    void advance(long delta) {
      millis += delta;
    }

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }
}
