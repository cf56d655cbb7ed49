package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.machine.DecryptionResult;
import io.github.mxe2ee.machine.MachineConfig;
import io.github.mxe2ee.machine.OlmMachine;
import io.github.mxe2ee.machine.OutgoingRequest;
import io.github.mxe2ee.machine.ReceivedToDevice;
import io.github.mxe2ee.machine.RequestType;
import io.github.mxe2ee.store.AccountId;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.memory.MemoryCryptoStore;
import io.github.mxe2ee.store.memory.MemoryDatabase;
import io.github.mxe2ee.store.sqlite.SqliteCryptoStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * mxe2ee's {@link OlmMachine} behind the {@link RoutedMachine} contract, so that the shared {@link
 * MachineScenarios} drive it exactly as they drive Element's Rust machine ({@link
 * RustMachinePeer}). It plays the homeserver client: sends the machine's requests through an {@link
 * InMemoryRouter} and feeds the responses (or errors) back, and translates results to the JSON
 * shapes the contract documents.
 *
 * <p>Decryption failures throw {@link Failure}, whose kind is the contract's classification word
 * ({@code missing_session}, {@code unknown_index}, {@code withheld}, {@code replay}, {@code
 * unable_to_decrypt} for malformed input, {@code untrusted}).
 *
 * <p>Not thread-safe: one test thread drives it. {@link #reopen()} closes the machine and its store
 * and opens both again on the same data (for persistence tests).
 */
public final class JavaMachine implements RoutedMachine {
  /** Same bound as the Rust peer: requests answer each other a few times, more is a loop. */
  public static final int MAX_PUMP_ROUNDS = 20;

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final MachineConfig config;
  private final Function<AccountId, CryptoStore> storeFactory;
  private CryptoStore store;
  private OlmMachine machine;

  /** A decryption failure of the Java machine, with the withheld code if any. */
  public static final class Failure extends Mxe2eeException {
    private static final long serialVersionUID = 1L;
    private final String withheldCode;
    private final transient DecryptionResult.UnableToDecrypt result;

    Failure(DecryptionResult.UnableToDecrypt result) {
      super(kindOf(result), result.message());
      this.withheldCode = result.withheldCode();
      this.result = result;
    }

    /** The machine's classified result. */
    public DecryptionResult.UnableToDecrypt result() {
      return result;
    }

    private static String kindOf(DecryptionResult.UnableToDecrypt u) {
      return switch (u.reason()) {
        case MISSING_SESSION -> "missing_session";
        case UNKNOWN_INDEX -> "unknown_index";
        case WITHHELD -> "withheld";
        case REPLAY -> "replay";
        case MALFORMED -> "unable_to_decrypt";
        case UNTRUSTED -> "untrusted";
        case STATE_KEY_MISMATCH -> "state_key_mismatch";
        case NEVER_ENCRYPTED_STATE -> "never_encrypted_state";
      };
    }
  }

  private JavaMachine(MachineConfig config, Function<AccountId, CryptoStore> storeFactory) {
    this.config = config;
    this.storeFactory = storeFactory;
    open();
  }

  private void open() {
    store = storeFactory.apply(AccountId.of(config.userId(), config.deviceId()));
    machine = OlmMachine.open(config, store);
  }

  /** A machine on a fresh {@link MemoryCryptoStore}. */
  public static JavaMachine inMemory(String userId, String deviceId) {
    return inMemory(config(userId, deviceId));
  }

  /** A machine with {@code config} on a fresh {@link MemoryCryptoStore}; reopen keeps the data. */
  public static JavaMachine inMemory(MachineConfig config) {
    MemoryDatabase db = new MemoryDatabase();
    return new JavaMachine(config, id -> MemoryCryptoStore.open(db, id));
  }

  /** A machine on a {@link SqliteCryptoStore} in {@code file} (created if missing). */
  public static JavaMachine sqlite(MachineConfig config, Path file) {
    return new JavaMachine(config, id -> SqliteCryptoStore.open(file, id));
  }

  /** A machine with {@code config} on the stores {@code storeFactory} opens (again on reopen). */
  public static JavaMachine on(
      MachineConfig config, Function<AccountId, CryptoStore> storeFactory) {
    return new JavaMachine(config, storeFactory);
  }

  /** A test configuration: fixed pickle key derived from the ids (tests only). */
  public static MachineConfig config(String userId, String deviceId) {
    byte[] key = new byte[32];
    byte[] seed = (userId + "|" + deviceId).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    for (int i = 0; i < seed.length; i++) {
      key[i % 32] ^= seed[i];
    }
    return MachineConfig.of(userId, deviceId, key);
  }

  /** The machine under test (for assertions beyond the contract). */
  public OlmMachine machine() {
    return machine;
  }

  /** The store under the machine. */
  public CryptoStore store() {
    return store;
  }

  /** Closes the machine and its store and opens both again on the same data. */
  public void reopen() {
    machine.close();
    store.close();
    open();
  }

  @Override
  public String userId() {
    return config.userId();
  }

  @Override
  public String deviceId() {
    return config.deviceId();
  }

  @Override
  public ObjectNode identityKeys() {
    ObjectNode keys = MAPPER.createObjectNode();
    keys.put("curve25519", machine.identityKeys().curve25519().toBase64());
    keys.put("ed25519", machine.identityKeys().ed25519().toBase64());
    return keys;
  }

  /**
   * The contract's JSON form of a request: {@code {request_id, type, body, event_type?, txn_id?}}.
   */
  public static ObjectNode describe(OutgoingRequest r) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("request_id", r.requestId());
    out.put("type", r.type().name().toLowerCase(Locale.ROOT));
    out.set("body", r.body());
    if (r.type() == RequestType.TO_DEVICE) {
      out.put("event_type", r.eventType());
      out.put("txn_id", r.requestId());
    }
    if (r.type() == RequestType.KEYS_BACKUP) {
      out.put("version", r.backupVersion());
    }
    return out;
  }

  /**
   * Sends one request through the router and feeds back the response, or the error as a failure.
   *
   * @return the response, or null if the router refused the request
   */
  public ObjectNode send(InMemoryRouter router, OutgoingRequest r) {
    ObjectNode response;
    try {
      response = router.route(userId(), deviceId(), r);
    } catch (RouterException e) {
      ObjectNode error = MAPPER.createObjectNode();
      error.put("errcode", e.errcode());
      error.put("error", e.getMessage());
      machine.markRequestAsFailed(r.requestId(), r.type(), e.status(), error);
      return null;
    }
    machine.markRequestAsSent(r.requestId(), r.type(), response);
    return response;
  }

  @Override
  public List<ObjectNode> pump(InMemoryRouter router) {
    List<ObjectNode> sent = new ArrayList<>();
    for (int round = 0; round < MAX_PUMP_ROUNDS; round++) {
      List<OutgoingRequest> requests = machine.outgoingRequests();
      if (requests.isEmpty()) {
        return sent;
      }
      for (OutgoingRequest r : requests) {
        send(router, r);
        sent.add(describe(r));
      }
    }
    throw new IllegalStateException(
        "machine still has requests after "
            + MAX_PUMP_ROUNDS
            + " rounds: "
            + machine.outgoingRequests());
  }

  @Override
  public List<ObjectNode> sync(InMemoryRouter router) {
    List<ObjectNode> out = new ArrayList<>();
    for (ReceivedToDevice e :
        machine.receiveSyncChanges(router.sync(userId(), deviceId()).toMachineSyncChanges())) {
      out.add(describe(e));
    }
    return out;
  }

  /** The contract's JSON form of a processed to-device event. */
  public static ObjectNode describe(ReceivedToDevice e) {
    ObjectNode out = MAPPER.createObjectNode();
    out.put("kind", e.kind().name().toLowerCase(Locale.ROOT));
    out.put("type", e.type());
    out.put("sender", e.sender());
    out.put("sender_device", e.senderDeviceId());
    out.put("sender_curve25519_key", e.senderCurve25519());
    out.set("content", e.content());
    if (e.failure() != null) {
      out.put("reason", e.failure());
    }
    return out;
  }

  @Override
  public void updateTrackedUsers(Collection<String> users) {
    machine.updateTrackedUsers(users);
  }

  @Override
  public void establishSessions(InMemoryRouter router, Collection<String> users) {
    machine.getMissingSessions(users).ifPresent(r -> send(router, r));
  }

  @Override
  public List<ObjectNode> shareRoomKey(
      InMemoryRouter router, String roomId, Collection<String> users, ObjectNode settings) {
    SharingStrategy strategy = SharingStrategy.ALL_DEVICES;
    if (settings != null) {
      if (settings.path("only_allow_trusted_devices").asBoolean(false)) {
        strategy = SharingStrategy.VERIFIED_ONLY;
      }
      if (settings.has("history_visibility")) {
        machine.onHistoryVisibility(roomId, settings.get("history_visibility").asText());
      }
      if (settings.has("rotation_period_ms") || settings.has("rotation_period_msgs")) {
        ObjectNode encryption = MAPPER.createObjectNode();
        encryption.put("algorithm", "m.megolm.v1.aes-sha2");
        if (settings.has("rotation_period_ms")) {
          encryption.set("rotation_period_ms", settings.get("rotation_period_ms"));
        }
        if (settings.has("rotation_period_msgs")) {
          encryption.set("rotation_period_msgs", settings.get("rotation_period_msgs"));
        }
        machine.onRoomEncryption(roomId, encryption);
      }
    }
    pump(router);
    establishSessions(router, users);
    List<ObjectNode> sent = new ArrayList<>();
    for (OutgoingRequest r : machine.shareRoomKey(roomId, users, strategy)) {
      send(router, r);
      sent.add(describe(r));
    }
    return sent;
  }

  @Override
  public ObjectNode encryptRoomEvent(String roomId, String type, ObjectNode content) {
    return machine.encryptRoomEvent(roomId, type, content);
  }

  /** The machine's raw result for a room event (no exception for failures). */
  public DecryptionResult decrypt(String roomId, ObjectNode event) {
    return machine.decryptRoomEvent(roomId, event);
  }

  @Override
  public ObjectNode decryptRoomEvent(String roomId, ObjectNode event) {
    DecryptionResult result = machine.decryptRoomEvent(roomId, event);
    if (result instanceof DecryptionResult.UnableToDecrypt u) {
      throw new Failure(u);
    }
    DecryptionResult.Decrypted d = (DecryptionResult.Decrypted) result;
    ObjectNode out = MAPPER.createObjectNode();
    out.put("type", d.type());
    out.set("content", d.content());
    out.put("sender", event.path("sender").asText());
    out.put("sender_device", d.senderDeviceId());
    out.put("sender_curve25519_key", d.senderCurve25519());
    out.put("message_index", d.messageIndex());
    ObjectNode state = out.putObject("verification_state");
    state.put("trust", d.trust().name().toLowerCase(Locale.ROOT));
    state.put("authenticated", d.authenticated());
    return out;
  }

  @Override
  public String withheldCode(Mxe2eeException decryptionFailure) {
    return decryptionFailure instanceof Failure f ? f.withheldCode : null;
  }

  @Override
  public ObjectNode device(String user, String device) {
    ObjectNode out = MAPPER.createObjectNode();
    var info = machine.device(user, device);
    if (info.isEmpty()) {
      out.put("found", false);
      return out;
    }
    DeviceTrust trust = info.get().trust();
    out.put("found", true);
    out.put("user_id", user);
    out.put("device_id", device);
    out.put("curve25519", info.get().keys().curve25519().toBase64());
    out.put("ed25519", info.get().keys().ed25519().toBase64());
    out.put("is_verified", trust.isVerified());
    out.put("is_cross_signed_by_owner", trust.isCrossSigned());
    out.put("is_locally_trusted", info.get().localTrust() == LocalTrust.VERIFIED);
    out.put("is_blacklisted", trust == DeviceTrust.BLACKLISTED);
    out.put("local_trust", info.get().localTrust().name().toLowerCase(Locale.ROOT));
    out.put("trust", trust.name().toLowerCase(Locale.ROOT));
    return out;
  }

  @Override
  public ObjectNode setLocalTrust(String user, String device, String trust) {
    LocalTrust local =
        switch (trust) {
          case "verified" -> LocalTrust.VERIFIED;
          case "blacklisted" -> LocalTrust.BLACKLISTED;
          case "unset" -> LocalTrust.UNSET;
          default -> throw new IllegalArgumentException("trust: " + trust);
        };
    machine.setLocalTrust(user, device, local);
    return device(user, device);
  }

  @Override
  public void bootstrapCrossSigning(InMemoryRouter router) {
    for (OutgoingRequest r : machine.bootstrapCrossSigning()) {
      if (send(router, r) == null) {
        throw new IllegalStateException("cross-signing upload refused: " + r);
      }
    }
    pump(router);
  }

  @Override
  public void verifyOwnDevice(InMemoryRouter router, String otherDeviceId) {
    String fingerprint =
        machine
            .device(userId(), otherDeviceId)
            .orElseThrow(() -> new IllegalArgumentException("unknown device " + otherDeviceId))
            .keys()
            .ed25519()
            .toBase64();
    ObjectNode response = send(router, machine.verifyOwnDevice(otherDeviceId, fingerprint));
    if (response == null || !response.path("failures").isEmpty()) {
      throw new IllegalStateException("signature upload refused: " + response);
    }
  }

  @Override
  public List<ObjectNode> requestRoomKey(InMemoryRouter router, String roomId, ObjectNode event) {
    List<ObjectNode> sent = new ArrayList<>();
    for (OutgoingRequest r : machine.requestRoomKey(roomId, event)) {
      send(router, r);
      sent.add(describe(r));
    }
    pump(router);
    return sent;
  }

  @Override
  public void close() {
    machine.close();
    store.close();
  }
}
