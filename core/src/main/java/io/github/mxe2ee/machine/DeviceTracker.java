package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.device.CrossSigningKey;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceKeysException;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.KeysQueryProcessor;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.device.RefusedDeviceKeys;
import io.github.mxe2ee.device.UserIdentity;
import io.github.mxe2ee.device.UserKeysUpdate;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CrossSigningIdentityRecord;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.TrackedUser;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Device-list tracking exactly as the spec's algorithm ({@code end_to_end_encryption.md}, "Tracking
 * the device list for a user"): tracked and outdated flags persisted; {@code device_lists.changed}
 * marks tracked users outdated, {@code left} stops tracking; one {@code /keys/query} per user in
 * flight, and if a user changes again while a query for them is in flight, that query's result for
 * them is ignored (superseded) and they stay outdated, so a fresh query follows. Responses are
 * checked by {@link KeysQueryProcessor}, which keeps at most {@link
 * MachineLimits#maxDevicesPerUser()} devices per user. A failed query is not resent at once: its
 * users wait {@link MachineLimits#retryBackoffBase()}, doubled after each further failure up to
 * {@link MachineLimits#retryBackoffMax()}.
 *
 * <p><b>Keys are bound to ids, trust to keys.</b> A (user, device id) is bound forever to the first
 * keys accepted for it: deleted devices keep their row (flagged deleted, keys and local trust kept)
 * as a tombstone, our own device is bound to our account's keys, and a device listed later with
 * other keys is refused, counted in {@link TrustCounters} and logged (ids and public fingerprints
 * only). Local trust is read only for the keys it was given to ({@link #trust}); a changed master
 * key drops the local trust of the identity (docs/SECURITY.md, "Device and identity keys are bound
 * to their ids").
 */
final class DeviceTracker {
  private static final System.Logger LOG = System.getLogger(DeviceTracker.class.getName());

  private final Context ctx;
  private final DeviceKeys ownDevice;
  private final TrustCounters counters;

  /** Request id to the users it asked about. */
  private final Map<String, Set<String>> inFlight = new HashMap<>();

  /** Users whose in-flight query was superseded by a newer change. */
  private final Set<String> superseded = new HashSet<>();

  private final Map<String, UserIdentity> identityCache = new HashMap<>();

  /**
   * Write-through caches of the store's device and identity rows, by user: every write goes through
   * {@link #putDevice} / {@link #putIdentityRecord}, which record it in the step's changes and
   * here. If a step fails the machine builds a new tracker, so the caches never run ahead of the
   * store for long. Room-key sharing and decryption read them per device and per event.
   */
  private final Map<String, Map<String, DeviceRecord>> records = new HashMap<>();

  private final Map<String, Optional<CrossSigningIdentityRecord>> identityRecords = new HashMap<>();

  /** {@link #devices} results by user, until one of the user's rows is written. */
  private final Map<String, Map<String, DeviceKeys>> liveDevices = new HashMap<>();

  /** Users whose last queries failed: consecutive failures and when they may be queried again. */
  private final Map<String, long[]> backoff = new HashMap<>();

  /** Parsed device keys by user and device, with the JSON they were parsed from. */
  private final Map<String, Map<String, Parsed>> parsed = new HashMap<>();

  private record Parsed(String json, DeviceKeys keys) {}

  /**
   * @param ownDevice our own device's keys, to which our device id is bound
   * @param counters where refused keys and identity changes are counted (outlives the tracker)
   */
  DeviceTracker(Context ctx, DeviceKeys ownDevice, TrustCounters counters) {
    this.ctx = ctx;
    this.ownDevice = ownDevice;
    this.counters = counters;
  }

  /** Starts tracking users not tracked yet (they start outdated). */
  void track(Collection<String> users, Changes changes) {
    for (String user : users) {
      if (ctx.store.trackedUser(user).isEmpty()) {
        changes.putTrackedUser(new TrackedUser(user, true));
      }
    }
  }

  /** Applies {@code device_lists} of a sync. */
  void onDeviceListChanges(List<String> changed, List<String> left, Changes changes) {
    for (String user : changed) {
      if (ctx.store.trackedUser(user).isPresent() || user.equals(ctx.userId())) {
        changes.putTrackedUser(new TrackedUser(user, true));
        if (isInFlight(user)) {
          superseded.add(user);
        }
      }
    }
    for (String user : left) {
      if (!user.equals(ctx.userId())) {
        changes.deleteTrackedUser(user);
      }
    }
  }

  private boolean isInFlight(String user) {
    return inFlight.values().stream().anyMatch(s -> s.contains(user));
  }

  /** Queries not answered yet, by request id: handed out again until their response comes. */
  private final Map<String, OutgoingRequest> unanswered = new LinkedHashMap<>();

  /**
   * The queries to send: those still unanswered (again, with the same id) and a new one for
   * outdated users that have none in flight.
   */
  List<OutgoingRequest> queryRequests() {
    List<OutgoingRequest> out = new ArrayList<>(unanswered.values());
    OutgoingRequest fresh = newQuery();
    if (fresh != null) {
      unanswered.put(fresh.requestId(), fresh);
      out.add(fresh);
    }
    return out;
  }

  private OutgoingRequest newQuery() {
    List<String> users = new ArrayList<>();
    long now = ctx.now();
    for (String user : ctx.store.outdatedUsers()) {
      long[] b = backoff.get(user);
      if (!isInFlight(user) && (b == null || now >= b[1])) {
        users.add(user);
      }
    }
    if (users.isEmpty()) {
      return null;
    }
    ObjectNode body = Context.object();
    ObjectNode deviceKeys = body.putObject("device_keys");
    users.forEach(u -> deviceKeys.putArray(u));
    String id = ctx.newRequestId();
    inFlight.put(id, new HashSet<>(users));
    return new OutgoingRequest(id, RequestType.KEYS_QUERY, body, null);
  }

  /** Whether the unanswered query {@code requestId} asked about {@code user}. */
  boolean asks(String requestId, String user) {
    Set<String> users = inFlight.get(requestId);
    return users != null && users.contains(user);
  }

  /** Marks {@code user} outdated (tracking them if not yet), so a query for them follows. */
  void markOutdated(String user, Changes changes) {
    changes.putTrackedUser(new TrackedUser(user, true));
  }

  /** The result of a query: users whose devices were updated. */
  Set<String> onQueryResponse(String requestId, JsonNode response, Changes changes) {
    unanswered.remove(requestId);
    Set<String> users = inFlight.remove(requestId);
    if (users == null) {
      return Set.of();
    }
    Set<String> current = new HashSet<>(users);
    current.removeAll(superseded);
    superseded.removeAll(users);
    backoff.keySet().removeAll(users);
    int max = ctx.limits.maxDevicesPerUser();
    Map<String, UserKeysUpdate> updates =
        KeysQueryProcessor.process(response, current, new StoreKnown(), max);
    for (String user : current) {
      JsonNode listed = response.path("device_keys").path(user);
      int sane = 0;
      for (java.util.Iterator<String> it = listed.fieldNames(); it.hasNext(); ) {
        if (MachineLimits.saneId(it.next())) {
          sane++;
        } else {
          ctx.counters.malformedIdsDropped++;
        }
      }
      ctx.counters.devicesRefused += Math.max(0, sane - max);
    }
    Set<String> updated = new HashSet<>();
    for (UserKeysUpdate update : updates.values()) {
      if (update.failed()) {
        continue;
      }
      Changes forUser = new Changes();
      try {
        apply(update, forUser);
      } catch (IllegalArgumentException | io.github.mxe2ee.crypto.DecodeException e) {
        // One user's malformed answer must not keep everyone else in the batch outdated.
        continue;
      }
      forUser.list().forEach(changes::add);
      changes.putTrackedUser(new TrackedUser(update.userId(), false));
      updated.add(update.userId());
    }
    return updated;
  }

  /**
   * A query failed: its users stay outdated and are queried again after a backoff that doubles with
   * each consecutive failure.
   */
  void onQueryFailure(String requestId) {
    unanswered.remove(requestId);
    Set<String> users = inFlight.remove(requestId);
    if (users != null) {
      superseded.removeAll(users);
      long now = ctx.now();
      long base = ctx.limits.retryBackoffBase().toMillis();
      long cap = ctx.limits.retryBackoffMax().toMillis();
      for (String user : users) {
        long[] b = backoff.computeIfAbsent(user, u -> new long[2]);
        long wait = base << Math.min(b[0], 30);
        b[0]++;
        b[1] = now + Math.min(wait, cap);
      }
    }
  }

  private void apply(UserKeysUpdate update, Changes changes) {
    String user = update.userId();
    for (RefusedDeviceKeys r : update.refused()) {
      refused(r);
    }
    for (DeviceKeys device : update.devices().values()) {
      Optional<DeviceKeys> bound = boundKeys(user, device.deviceId());
      if (bound.isPresent() && !bound.get().sameKeysAs(device)) {
        // The processor refuses these; this second check keeps trust from ever moving to them.
        refused(
            new RefusedDeviceKeys(
                user,
                device.deviceId(),
                RefusedDeviceKeys.Reason.KEYS_CHANGED,
                bound.get().ed25519().toBase64(),
                device.ed25519().toBase64()));
        continue;
      }
      LocalTrust trust = localTrust(user, device);
      putDevice(
          new DeviceRecord(user, device.deviceId(), device.toJson().toString(), trust, false),
          changes);
    }
    for (String removed : update.removedDeviceIds()) {
      deviceRecord(user, removed)
          .ifPresent(
              d ->
                  putDevice(
                      new DeviceRecord(user, removed, d.keysJson(), d.trust(), true), changes));
    }
    if (update.identity() != null) {
      applyIdentity(user, update.identity(), changes);
    }
  }

  private void refused(RefusedDeviceKeys r) {
    counters.countRefusedDevice();
    LOG.log(
        System.Logger.Level.WARNING,
        "refused device keys of {0}/{1} ({2}): bound to ed25519 {3}, offered ed25519 {4}; the"
            + " device is not stored, trusted or given keys",
        r.userId(),
        r.deviceId(),
        r.reason(),
        r.boundEd25519(),
        r.offeredEd25519());
  }

  /**
   * Stores a validated identity. Its local trust is kept only if the master key is the one it was
   * given to; a new master key is an identity change: its trust starts unset, and everything
   * derived from the old keys (devices signed by the old self-signing key, our user-signing key's
   * signature on the old master key) no longer counts, since trust is computed from the stored
   * identity's keys.
   */
  private void applyIdentity(String user, UserIdentity id, Changes changes) {
    Optional<CrossSigningIdentityRecord> old = identityRecord(user);
    UserIdentity previous = old.isPresent() ? identity(user) : null;
    boolean sameMaster = previous != null && previous.sameMasterKey(id);
    if (old.isPresent() && !sameMaster) {
      counters.countIdentityChange();
      LOG.log(
          System.Logger.Level.WARNING,
          "cross-signing master key of {0} changed from {1} to {2}{3}: trust derived from the old"
              + " identity is dropped until it is verified again",
          user,
          previous == null ? "(unreadable)" : previous.master().publicKey().toBase64(),
          id.master().publicKey().toBase64(),
          user.equals(ctx.userId()) ? " (our own identity, changed by the server)" : "");
    }
    ObjectNode json = Context.object();
    json.set("master_key", id.master().toJson());
    json.set("self_signing_key", id.selfSigning().toJson());
    if (id.userSigning() != null) {
      json.set("user_signing_key", id.userSigning().toJson());
    }
    LocalTrust trust =
        sameMaster
            ? old.map(CrossSigningIdentityRecord::trust).orElse(LocalTrust.UNSET)
            : LocalTrust.UNSET;
    putIdentityRecord(new CrossSigningIdentityRecord(user, json.toString(), trust), changes);
    identityCache.put(user, id);
  }

  /** The known, non-deleted devices of {@code user}, by id. */
  Map<String, DeviceKeys> devices(String user) {
    Map<String, DeviceKeys> cached = liveDevices.get(user);
    if (cached != null) {
      return cached;
    }
    Map<String, DeviceKeys> out = new LinkedHashMap<>();
    for (DeviceRecord r : recordsOf(user).values()) {
      if (!r.deleted()) {
        out.put(r.deviceId(), keysOf(r));
      }
    }
    // Built once and shared until the user's devices change: a batch of events from a user with
    // many devices must not rebuild it per event.
    Map<String, DeviceKeys> view = java.util.Collections.unmodifiableMap(out);
    liveDevices.put(user, view);
    return view;
  }

  private Map<String, DeviceRecord> recordsOf(String user) {
    return records.computeIfAbsent(
        user,
        u -> {
          Map<String, DeviceRecord> m = new LinkedHashMap<>();
          for (DeviceRecord r : ctx.store.devices(u)) {
            m.put(r.deviceId(), r);
          }
          return m;
        });
  }

  private DeviceKeys keysOf(DeviceRecord r) {
    Map<String, Parsed> ofUser = parsed.computeIfAbsent(r.userId(), u -> new HashMap<>());
    Parsed p = ofUser.get(r.deviceId());
    if (p == null || !p.json.equals(r.keysJson())) {
      p = new Parsed(r.keysJson(), DeviceKeys.parse(Context.parseObject(r.keysJson())));
      ofUser.put(r.deviceId(), p);
    }
    return p.keys;
  }

  /** The stored row of a device (deleted ones included). */
  Optional<DeviceRecord> deviceRecord(String user, String deviceId) {
    return Optional.ofNullable(recordsOf(user).get(deviceId));
  }

  /** Writes a device row: into {@code changes} and the cache. */
  void putDevice(DeviceRecord record, Changes changes) {
    changes.putDevice(record);
    recordsOf(record.userId()).put(record.deviceId(), record);
    liveDevices.remove(record.userId());
  }

  private Optional<CrossSigningIdentityRecord> identityRecord(String user) {
    return identityRecords.computeIfAbsent(user, u -> ctx.store.crossSigningIdentity(u));
  }

  /** Writes a cross-signing identity row: into {@code changes} and the cache. */
  void putIdentityRecord(CrossSigningIdentityRecord record, Changes changes) {
    changes.putCrossSigningIdentity(record);
    identityRecords.put(record.userId(), Optional.of(record));
    identityCache.remove(record.userId());
  }

  /** The device of {@code user} with Curve25519 key {@code curve25519}, if known. */
  Optional<DeviceKeys> deviceByCurveKey(String user, String curve25519) {
    Map<String, DeviceKeys> all = devices(user);
    Map<String, DeviceKeys> byCurve = byCurveKey.get(all);
    if (byCurve == null) {
      byCurve = new HashMap<>();
      for (DeviceKeys d : all.values()) {
        byCurve.putIfAbsent(d.curve25519().toBase64(), d);
      }
      byCurveKey.clear();
      byCurveKey.put(all, byCurve);
    }
    return Optional.ofNullable(byCurve.get(curve25519));
  }

  /** Curve25519 index of the last {@link #devices} view it was asked about (by identity). */
  private final Map<Map<String, DeviceKeys>, Map<String, DeviceKeys>> byCurveKey =
      new java.util.IdentityHashMap<>();

  /** The stored, validated identity of {@code user}, or null. */
  UserIdentity identity(String user) {
    UserIdentity cached = identityCache.get(user);
    if (cached != null) {
      return cached;
    }
    Optional<CrossSigningIdentityRecord> record = identityRecord(user);
    if (record.isEmpty()) {
      return null;
    }
    ObjectNode json = Context.parseObject(record.get().keysJson());
    try {
      JsonNode usk = json.get("user_signing_key");
      UserIdentity id =
          UserIdentity.of(
              CrossSigningKey.parse(json.get("master_key")),
              CrossSigningKey.parse(json.get("self_signing_key")),
              usk == null ? null : CrossSigningKey.parse(usk));
      identityCache.put(user, id);
      return id;
    } catch (DeviceKeysException e) {
      return null;
    }
  }

  /** Forgets the cached identity of {@code user} (after a local change to it). */
  void invalidateIdentity(String user) {
    identityCache.remove(user);
  }

  /**
   * Whether {@code user}'s identity is verified: for our own user, that we hold its private master
   * key or verified it locally; for others, that our user-signing key signed their master key or we
   * verified it locally.
   */
  boolean isIdentityVerified(String user, boolean ownMasterKeyHeld) {
    UserIdentity id = identity(user);
    if (id == null) {
      return false;
    }
    boolean local = identityRecord(user).map(r -> r.trust() == LocalTrust.VERIFIED).orElse(false);
    if (user.equals(ctx.userId())) {
      return ownMasterKeyHeld || local;
    }
    UserIdentity own = identity(ctx.userId());
    boolean ownVerified = isIdentityVerified(ctx.userId(), ownMasterKeyHeld);
    return local || (own != null && ownVerified && own.hasSigned(id));
  }

  /**
   * The trust of one device now. Trust attaches to keys: local trust (verified or blacklisted) and
   * cross-signing count only if {@code device} has the keys bound to its id; any other keys under
   * that id are {@link DeviceTrust#UNVERIFIED}.
   */
  DeviceTrust trust(String user, DeviceKeys device, boolean ownMasterKeyHeld) {
    Optional<DeviceKeys> bound = boundKeys(user, device.deviceId());
    if (bound.isEmpty() || !bound.get().sameKeysAs(device)) {
      return DeviceTrust.UNVERIFIED;
    }
    return DeviceTrust.of(
        device,
        localTrust(user, device),
        identity(user),
        isIdentityVerified(user, ownMasterKeyHeld));
  }

  /**
   * The local trust given to exactly these keys: the stored row's, if it holds them; else unset.
   */
  LocalTrust localTrust(String user, DeviceKeys device) {
    return deviceRecord(user, device.deviceId())
        .filter(r -> keysOf(r).sameKeysAs(device))
        .map(DeviceRecord::trust)
        .orElse(LocalTrust.UNSET);
  }

  /** The keys {@code user}'s {@code deviceId} is bound to: ours for our device, else the row's. */
  Optional<DeviceKeys> boundKeys(String user, String deviceId) {
    if (user.equals(ctx.userId()) && deviceId.equals(ownDevice.deviceId())) {
      return Optional.of(ownDevice);
    }
    return deviceRecord(user, deviceId).map(this::keysOf);
  }

  /** Every device id of {@code user} ever accepted (tombstones and our own device included). */
  private Map<String, DeviceKeys> boundDevices(String user) {
    Map<String, DeviceKeys> out = new LinkedHashMap<>();
    if (user.equals(ctx.userId())) {
      out.put(ownDevice.deviceId(), ownDevice);
    }
    for (DeviceRecord r : recordsOf(user).values()) {
      if (!(user.equals(ctx.userId()) && r.deviceId().equals(ownDevice.deviceId()))) {
        out.put(r.deviceId(), keysOf(r));
      }
    }
    return out;
  }

  private final class StoreKnown implements KeysQueryProcessor.Known {
    @Override
    public Map<String, DeviceKeys> devicesOf(String userId) {
      return devices(userId);
    }

    @Override
    public Map<String, DeviceKeys> boundDevicesOf(String userId) {
      return boundDevices(userId);
    }

    @Override
    public UserIdentity identityOf(String userId) {
      return identity(userId);
    }
  }
}
