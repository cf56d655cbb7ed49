package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.attachment.EncryptedFile;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.DeviceTrust;
import io.github.mxe2ee.device.LocalTrust;
import io.github.mxe2ee.device.SharingStrategy;
import io.github.mxe2ee.export.ExportedRoomKey;
import io.github.mxe2ee.olm.IdentityKeys;
import io.github.mxe2ee.sas.KeyDirectory;
import io.github.mxe2ee.sas.SasContext;
import io.github.mxe2ee.sas.SasVerification;
import io.github.mxe2ee.sas.VerificationMessage;
import io.github.mxe2ee.sas.Verifications;
import io.github.mxe2ee.sas.VerifiedKeys;
import io.github.mxe2ee.store.Changes;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.DeviceRecord;
import io.github.mxe2ee.store.InboundGroupSessionRecord;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The sans-I/O E2EE machine of one device (ARCHITECTURE.md, "core: a sans-I/O machine"; spec:
 * {@code end_to_end_encryption.md}). It never performs I/O except through its {@link CryptoStore}:
 * it is <b>pushed</b> sync data ({@link #receiveSyncChanges}), <b>pulled</b> for requests to send
 * ({@link #outgoingRequests}) and fed their responses ({@link #markRequestAsSent}), and
 * <b>operated</b> for room encryption ({@link #shareRoomKey}, {@link #encryptRoomEvent}, {@link
 * #decryptRoomEvent}).
 *
 * <p><b>Persistence.</b> Each public call that changes state ends with exactly one atomic {@code
 * store.save(changes)} before it returns anything that depends on it: an outbound Megolm index is
 * saved before the ciphertext is returned; one-time keys before the request that uploads them; an
 * Olm session only after it decrypted a message. If the save fails, in-memory caches are dropped
 * and the exception propagates: the machine then continues from what the store holds.
 *
 * <p><b>Threads.</b> Not thread-safe: one thread (the Vert.x plugin's worker) drives it.
 *
 * <p><b>Errors.</b> Expected outcomes are values ({@link DecryptionResult}); malformed arguments
 * throw {@link IllegalArgumentException}, calls out of order {@link IllegalStateException}, and
 * store failures {@link io.github.mxe2ee.store.StoreException}.
 */
public final class OlmMachine implements AutoCloseable {
  private final Context ctx;

  /** Outlives reloads after a failed step, so a failure cannot be used to reset replay checks. */
  private final ReplayGuard replay = new ReplayGuard();

  /** Set by a step whose replay records are saved with it whatever else it saves (a batch). */
  private boolean flushReplay;

  /** Outlives reloads too: a found identity conflict stays found. */
  private final OwnDeviceCheck ownDevice;

  /** Outlives reloads, like {@link #replay}. */
  private final TrustCounters trustCounters = new TrustCounters();

  private AccountKeys account;
  private DeviceTracker devices;
  private OlmSessions olm;
  private GroupSessions groups;
  private CrossSigning crossSigning;
  private KeyRequests keyRequests;
  private KeyBackups backups;
  private RoomKeyBundles bundles;

  /** The identity bootstrap run in progress, or null. In memory: a restart starts a new run. */
  private IdentitySetup identitySetup;

  /** The key backup bootstrap run in progress, or null. In memory, like {@link #identitySetup}. */
  private BackupSetup backupSetup;

  private SecretRequests secretRequests;

  /** Requests produced while processing input, waiting to be sent. */
  private final Map<String, OutgoingRequest> queued = new LinkedHashMap<>();

  private final Map<String, String> claimsForKeyRequests = new LinkedHashMap<>();

  /** Claims that replace wedged sessions: their new sessions announce themselves with m.dummy. */
  private final java.util.Set<String> unwedgeClaims = new java.util.HashSet<>();

  /**
   * Sessions stored by saved steps and not yet taken ({@link #takeAvailableSessions}); in memory,
   * outliving reloads (a failed step adds nothing: its sessions were not saved).
   */
  private final java.util.Set<AvailableSessions.Session> available =
      new java.util.LinkedHashSet<>();

  private boolean availableOverflowed;

  /** SAS verifications (in memory only); outlive reloads like the replay guard. */
  private final Verifications verifications;

  private final UnsentRoomEvents unsent;

  private OlmMachine(Context ctx) {
    this.ctx = ctx;
    this.ownDevice = new OwnDeviceCheck(ctx);
    this.unsent = new UnsentRoomEvents(ctx);
    load();
    this.verifications =
        new Verifications(
            new SasContext(
                ctx.userId(),
                ctx.deviceId(),
                account.account().ed25519Key(),
                new MachineKeyDirectory(),
                ctx.config.clock(),
                ctx.config.random()));
  }

  private void load() {
    account = AccountKeys.loadOrCreate(ctx);
    devices = new DeviceTracker(ctx, account.deviceKeys(), trustCounters);
    olm = new OlmSessions(ctx, account);
    groups = new GroupSessions(ctx, account, devices, olm, replay);
    crossSigning = new CrossSigning(ctx, account, devices);
    keyRequests = new KeyRequests(ctx, devices, olm, groups, crossSigning);
    groups.setOwnMasterKeyHeld(crossSigning::holdsMasterKey);
    backups = new KeyBackups(ctx, groups);
    bundles = new RoomKeyBundles(ctx, devices, olm, groups, crossSigning::holdsMasterKey);
    secretRequests = new SecretRequests(ctx, devices, olm, crossSigning, backups, keyRequests);
    identitySetup = null;
    backupSetup = null;
  }

  /**
   * Opens the machine of {@code config}'s device on {@code store}, creating and saving a new
   * account on first use. Our own user is tracked from the start.
   *
   * <p>Identity safety: while the server has not confirmed an upload of this account's device keys,
   * the first requests are a {@code /keys/query} for our own user, and the device keys are uploaded
   * only after its answer shows no other keys for our device id. If it shows other keys, {@link
   * #markRequestAsSent} throws {@link DeviceIdentityConflictException} and every later call that
   * would send with this identity throws it again (see {@link #identityConflict()}).
   */
  public static OlmMachine open(MachineConfig config, CryptoStore store) {
    OlmMachine machine = new OlmMachine(new Context(config, store));
    machine.run(
        changes -> {
          machine.devices.track(List.of(config.userId()), changes);
          if (!machine.account.sharedWithServer()) {
            // Also after a restart between that query and the upload: ask the server again.
            machine.devices.markOutdated(config.userId(), changes);
          }
        });
    return machine;
  }

  /**
   * The conflict between the server's keys for our device and our store's identity, if one was
   * found (then nothing is uploaded or sent; see {@link DeviceIdentityConflictException}).
   */
  public Optional<DeviceIdentityConflictException> identityConflict() {
    return ownDevice.conflict();
  }

  /** Our user id. */
  public String userId() {
    return ctx.userId();
  }

  /** Our device id. */
  public String deviceId() {
    return ctx.deviceId();
  }

  /** Our Curve25519 and Ed25519 identity keys. */
  public IdentityKeys identityKeys() {
    return account.account().identityKeys();
  }

  /** Our signed device keys, as uploaded. */
  public DeviceKeys deviceKeys() {
    return account.deviceKeys();
  }

  private interface Step<T> {
    T run(Changes changes);
  }

  private interface VoidStep {
    void run(Changes changes);
  }

  private void run(VoidStep body) {
    step(
        (Step<Void>)
            c -> {
              body.run(c);
              return null;
            });
  }

  private <T> T step(Step<T> body) {
    Changes changes = new Changes();
    T result;
    ctx.counters.beginStep();
    long saveNanos = 0;
    boolean saved = false;
    int replayRecords = 0;
    try {
      result = body.run(changes);
      // Replay records ride along with a save that happens anyway, or are batched (ReplayGuard).
      if (replay.hasPending() && (!changes.isEmpty() || replay.flushDue() || flushReplay)) {
        replayRecords = replay.drainInto(changes);
      }
      long start = System.nanoTime();
      try {
        ctx.store.save(changes);
      } finally {
        saveNanos = System.nanoTime() - start;
      }
      saved = true;
      replay.saved(replayRecords);
      keyRequests.afterSave();
      noteAvailable(groups.takeStored());
    } catch (RuntimeException e) {
      load();
      throw e;
    } finally {
      flushReplay = false;
      ctx.counters.endStep();
      ctx.events.endStep(saveNanos, saved, ctx.counters.snapshot());
    }
    return result;
  }

  private void noteAvailable(List<GroupSessions.SessionRef> stored) {
    for (GroupSessions.SessionRef r : stored) {
      if (available.size() >= AvailableSessions.MAX_TRACKED_SESSIONS) {
        availableOverflowed = true;
        return;
      }
      available.add(new AvailableSessions.Session(r.roomId(), r.senderKey(), r.sessionId()));
    }
  }

  /**
   * The Megolm sessions that became decryptable (or decryptable from an earlier message index) in
   * the steps saved since the last call, from any source (room keys, forwarded keys, key files,
   * backups), and forgets them: a caller that holds undecryptable events retries only those of
   * these sessions (issue 12, "late keys"). In memory only: after a restart, nothing is listed, and
   * a caller should retry everything it held once.
   */
  public AvailableSessions takeAvailableSessions() {
    if (available.isEmpty() && !availableOverflowed) {
      return AvailableSessions.NONE;
    }
    AvailableSessions out = new AvailableSessions(available, availableOverflowed);
    available.clear();
    availableOverflowed = false;
    return out;
  }

  /**
   * Sets the observer that learns what the machine did (store save times, bound counters, room keys
   * shared, withheld notices, key requests answered and refused), or {@link MachineObserver#NONE}
   * (the default; also for null). Called from any thread; takes effect from the next step.
   */
  public void setObserver(MachineObserver observer) {
    ctx.events.setObserver(observer);
  }

  /**
   * How often the machine's bounds ({@link MachineLimits}) bit since it was opened, and what it
   * dropped. A snapshot; reading it changes nothing.
   */
  public MachineStats stats() {
    return ctx.counters.snapshot();
  }

  // ------------------------------------------------------------ push

  /**
   * Processes the E2EE parts of one sync or appservice transaction: to-device events (decrypting
   * Olm, importing room keys, answering key requests), device-list changes and key counts. The sync
   * token, if any, is saved in the same step.
   *
   * @return what happened to each to-device event, in order
   */
  public List<ReceivedToDevice> receiveSyncChanges(SyncChanges sync) {
    return receiveSyncChanges(sync, null);
  }

  /** Key of the pending batch of a {@link SyncCheckpoint} in the store's small values. */
  static final String PENDING_SYNC_BATCH_KEY = "sync.pending_batch";

  /**
   * {@link #receiveSyncChanges(SyncChanges)}, and saves {@code checkpoint} in the same store
   * transaction as the crypto changes of this step: its {@code nextBatch} as the sync token (it
   * wins over {@code sync.nextBatch()}) and its pending batch (or, if null, the removal of any
   * earlier one). Either all of it is stored or none, so a sync response whose token is stored has
   * had its to-device events, device lists and key counts processed exactly once, and one whose
   * token is not stored has changed nothing: a caller that resumes from {@link #syncToken()}
   * processes each response at most once, crash or not.
   *
   * @param checkpoint the resume point, or null to save only {@code sync.nextBatch()} (if any)
   */
  public List<ReceivedToDevice> receiveSyncChanges(SyncChanges sync, SyncCheckpoint checkpoint) {
    Objects.requireNonNull(sync, "sync");
    List<ReceivedToDevice> out = receiveSyncChangesStep(sync, checkpoint);
    applyVerified();
    return out;
  }

  private List<ReceivedToDevice> receiveSyncChangesStep(
      SyncChanges sync, SyncCheckpoint checkpoint) {
    return step(
        changes -> {
          devices.onDeviceListChanges(sync.changedUsers(), sync.leftUsers(), changes);
          account.onSyncCounts(sync.oneTimeKeyCounts(), sync.unusedFallbackKeyTypes());
          List<ReceivedToDevice> out = new ArrayList<>();
          List<OutgoingRequest> replies = new ArrayList<>();
          ToDeviceHandler handler =
              new ToDeviceHandler(
                  ctx, account, devices, olm, groups, keyRequests, secretRequests, bundles);
          for (ObjectNode event : sync.toDeviceEvents()) {
            ReceivedToDevice received = handler.handle(event, changes, replies);
            out.add(received);
            routeVerification(received);
          }
          queueVerificationMessages();
          if (!handler.wedgedDevices().isEmpty()) {
            OutgoingRequest claim = olm.claimRequest(handler.wedgedDevices(), true);
            if (claim != null) {
              unwedgeClaims.add(claim.requestId());
              queued.put(claim.requestId(), claim);
            }
          }
          replies.forEach(r -> queued.put(r.requestId(), r));
          if (checkpoint != null) {
            changes.putSyncToken(checkpoint.nextBatch());
            byte[] pending = checkpoint.pendingBatch();
            if (pending != null) {
              changes.putValue(PENDING_SYNC_BATCH_KEY, pending);
            } else {
              changes.deleteValue(PENDING_SYNC_BATCH_KEY);
            }
          } else if (sync.nextBatch() != null) {
            changes.putSyncToken(sync.nextBatch());
          }
          return out;
        });
  }

  /**
   * The pending batch of the last {@link SyncCheckpoint} saved, unless {@link #completeSyncBatch}
   * removed it since: work of a sync response that was saved but not finished before a stop.
   */
  public Optional<byte[]> pendingSyncBatch() {
    return ctx.store.value(PENDING_SYNC_BATCH_KEY);
  }

  /** Removes the pending batch of the last {@link SyncCheckpoint}: its work is done. Saved. */
  public void completeSyncBatch() {
    run(changes -> changes.deleteValue(PENDING_SYNC_BATCH_KEY));
  }

  /** The last sync token saved with {@link #receiveSyncChanges}, if any. */
  public Optional<String> syncToken() {
    return ctx.store.syncToken();
  }

  // ------------------------------------------------------------ pull

  /**
   * Everything that should be sent now: key upload, device-list queries, claims for pending key
   * requests, key requests and their cancellations, and queued to-device messages. Calling it again
   * before responses are fed back returns the unanswered requests again, with the same ids, but
   * never a second upload or a second query for the same users.
   *
   * @throws DeviceIdentityConflictException once the server was found to hold other keys for our
   *     device (as do the other calls that send: sharing, encrypting, claiming, key requests,
   *     cross-signing)
   */
  public List<OutgoingRequest> outgoingRequests() {
    ownDevice.ensureNoConflict();
    applyVerified();
    List<OutgoingRequest> out = outgoingRequestsStep();
    List<OutgoingRequest> signatures = applyVerified();
    if (!signatures.isEmpty()) {
      out = new ArrayList<>(out);
      out.addAll(signatures);
    }
    return out;
  }

  private List<OutgoingRequest> outgoingRequestsStep() {
    return step(
        changes -> {
          queueVerificationMessages();
          List<OutgoingRequest> out = new ArrayList<>();
          OutgoingRequest upload = account.uploadRequest(changes, ownDevice.confirmed());
          if (upload != null) {
            out.add(upload);
          }
          out.addAll(devices.queryRequests());
          List<OutgoingRequest> answers = new ArrayList<>();
          keyRequests.retryWaiting(false, changes, answers);
          answers.forEach(r -> queued.put(r.requestId(), r));
          if (claimsForKeyRequests.isEmpty()) {
            OutgoingRequest claim = olm.claimRequest(keyRequests.devicesWaitingForSession());
            if (claim != null) {
              claimsForKeyRequests.put(claim.requestId(), claim.requestId());
              queued.put(claim.requestId(), claim);
            }
          }
          keyRequests.requests().forEach(r -> queued.put(r.requestId(), r));
          out.addAll(queued.values());
          OutgoingRequest backup = backups.request();
          if (backup != null) {
            out.add(backup);
          }
          out.addAll(backups.restoreRequests());
          return out;
        });
  }

  /**
   * Feeds back the response to a request from {@link #outgoingRequests}, {@link #shareRoomKey},
   * {@link #getMissingSessions}, {@link #bootstrapCrossSigning}, {@link #verifyOwnDevice} or {@link
   * #bootstrapIdentity}. Unknown request ids are ignored.
   *
   * @throws DeviceIdentityConflictException if this is the answer to a {@code /keys/query} for our
   *     own user that lists other keys for our device id (the answer is then not applied)
   */
  public void markRequestAsSent(String requestId, RequestType type, JsonNode response) {
    if (!io.github.mxe2ee.json.JsonLimits.within(response)) {
      // A response nested or sized beyond the bounds is treated as a failed request: nothing in
      // it is used, and whatever it was for is produced again later.
      markRequestAsFailed(requestId, type, 0, null);
      return;
    }
    if (identitySetup != null && identitySetup.owns(requestId)) {
      identitySetup.onSent(identitySetup.pending(requestId), response);
      return;
    }
    if (backupSetup != null && backupSetup.owns(requestId)) {
      backupSetup.onSent(backupSetup.pending(requestId), response);
      return;
    }
    run(
        changes -> {
          queued.remove(requestId);
          switch (type) {
            case KEYS_UPLOAD -> account.onUploadResponse(requestId, response, changes);
            case KEYS_QUERY -> {
              if (devices.asks(requestId, ctx.userId())) {
                IdentityKeys ours = account.account().identityKeys();
                ownDevice.onOwnQueryResponse(
                    response, ours.curve25519().toBase64(), ours.ed25519().toBase64());
              }
              devices.onQueryResponse(requestId, response, changes);
            }
            case KEYS_CLAIM -> {
              List<DeviceKeys> created = olm.onClaimResponse(response, devices, changes);
              if (unwedgeClaims.remove(requestId)) {
                ToDeviceBatcher dummies = new ToDeviceBatcher(ctx, "m.room.encrypted");
                for (DeviceKeys d : created) {
                  dummies.add(
                      d.userId(),
                      d.deviceId(),
                      olm.encrypt(d, "m.dummy", Context.object(), changes));
                }
                dummies.build().forEach(r -> queued.put(r.requestId(), r));
              }
              List<OutgoingRequest> replies = new ArrayList<>();
              keyRequests.retryWaiting(
                  claimsForKeyRequests.remove(requestId) != null, changes, replies);
              replies.forEach(r -> queued.put(r.requestId(), r));
            }
            case TO_DEVICE -> {
              groups.onToDeviceSent(requestId, changes);
              keyRequests.onToDeviceSent(requestId, changes);
            }
            case KEYS_BACKUP -> backups.onSent(requestId, changes);
            case BACKUP_KEYS_GET -> {
              RoomKeyImportResult restored =
                  backups.onRestored(requestId, response, groups, changes);
              if (restored != null) {
                ctx.counters.roomKeysRestoredFromBackup += restored.imported();
              }
            }
            case SIGNATURE_UPLOAD,
                SIGNING_KEYS_UPLOAD,
                ACCOUNT_DATA_GET,
                ACCOUNT_DATA_PUT,
                BACKUP_VERSION_GET,
                BACKUP_VERSION_CREATE -> {}
          }
        });
  }

  /**
   * Reports that a request failed for good (after the caller's retries). The machine forgets it;
   * whatever it was for is produced again by a later {@link #outgoingRequests} where that makes
   * sense (a query stays outdated, an upload is rebuilt).
   *
   * @param status the HTTP status, or 0 for a network failure
   * @param error the error body, or null
   */
  public void markRequestAsFailed(String requestId, RequestType type, int status, JsonNode error) {
    if (identitySetup != null && identitySetup.owns(requestId)) {
      identitySetup.onFailed(identitySetup.pending(requestId), status, error);
      return;
    }
    if (backupSetup != null && backupSetup.owns(requestId)) {
      backupSetup.onFailed(backupSetup.pending(requestId), status, error);
      return;
    }
    run(
        changes -> {
          queued.remove(requestId);
          claimsForKeyRequests.remove(requestId);
          unwedgeClaims.remove(requestId);
          keyRequests.forget(requestId);
          switch (type) {
            case KEYS_UPLOAD -> account.onUploadFailure(requestId, status, error, changes);
            case KEYS_QUERY -> devices.onQueryFailure(requestId);
            case KEYS_BACKUP -> backups.onFailed(requestId, error, changes);
            case BACKUP_KEYS_GET -> backups.onRestoreFailed(requestId);
            default -> {}
          }
        });
  }

  // ------------------------------------------------------------ devices

  /** Starts tracking the device lists of {@code users} (room members). */
  public void updateTrackedUsers(Collection<String> users) {
    run(changes -> devices.track(users, changes));
  }

  /** A device as this machine knows it, with its trust now. */
  public record DeviceInfo(DeviceKeys keys, DeviceTrust trust, LocalTrust localTrust) {}

  /** A known, non-deleted device. */
  public Optional<DeviceInfo> device(String userId, String deviceId) {
    DeviceKeys keys = devices.devices(userId).get(deviceId);
    if (keys == null) {
      return Optional.empty();
    }
    LocalTrust local = devices.localTrust(userId, keys);
    return Optional.of(
        new DeviceInfo(keys, devices.trust(userId, keys, crossSigning.holdsMasterKey()), local));
  }

  /** All known, non-deleted devices of a user. */
  public List<DeviceInfo> devices(String userId) {
    List<DeviceInfo> out = new ArrayList<>();
    for (String id : devices.devices(userId).keySet()) {
      device(userId, id).ifPresent(out::add);
    }
    return out;
  }

  /**
   * How many device keys this machine refused because they contradict the keys bound to a device
   * id, and how many cross-signing identities changed, since it was opened (docs/SECURITY.md,
   * "Device and identity keys are bound to their ids"). A live view.
   */
  public TrustCounters trustCounters() {
    return trustCounters;
  }

  /**
   * Sets the local trust of a known device (verify by fingerprint, blacklist, reset).
   *
   * @throws IllegalArgumentException if the device is unknown
   */
  public void setLocalTrust(String userId, String deviceId, LocalTrust trust) {
    DeviceRecord r =
        devices
            .deviceRecord(userId, deviceId)
            .orElseThrow(
                () -> new IllegalArgumentException("unknown device " + userId + "/" + deviceId));
    run(
        changes ->
            devices.putDevice(
                new DeviceRecord(userId, deviceId, r.keysJson(), trust, r.deleted()), changes));
  }

  // ------------------------------------------------------------ rooms

  /**
   * Records a room's {@code m.room.encryption} state content: rotation settings, and whether state
   * events are encrypted (MSC4362; see {@link #isStateEncrypted}).
   */
  public void onRoomEncryption(String roomId, JsonNode content) {
    run(
        changes ->
            RoomSettings.load(ctx, roomId)
                .withEncryption(content, ctx.config.rotation())
                .save(roomId, changes));
  }

  /**
   * Records a room's history visibility; if the change flips whether new sessions are shareable,
   * the outbound session is rotated (spec, "Shareable encryption sessions").
   */
  public void onHistoryVisibility(String roomId, String visibility) {
    run(
        changes -> {
          RoomSettings before = RoomSettings.load(ctx, roomId);
          RoomSettings after = before.withHistoryVisibility(visibility);
          if (before.sharedHistory() != after.sharedHistory()) {
            groups.invalidate(roomId, changes);
          }
          after.save(roomId, changes);
        });
  }

  /**
   * True once this machine has seen the room's {@code m.room.encryption} state event ({@link
   * #onRoomEncryption}); persisted, and never false again afterwards, since a room's encryption
   * cannot be switched off (spec: "Enabling end-to-end encryption"). False for a room never seen:
   * the caller asks the server in that case.
   */
  public boolean isRoomEncrypted(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return RoomSettings.load(ctx, roomId).encrypted();
  }

  /**
   * True once the room's {@code m.room.encryption} content seen by {@link #onRoomEncryption}
   * enabled encrypted state events (MSC4362: {@code io.element.msc4362.encrypt_state_events} or
   * {@code encrypt_state_events} set to {@code true}); persisted, and never false again, so that a
   * later content without the flag does not downgrade the room's state to plaintext.
   */
  public boolean isStateEncrypted(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return RoomSettings.load(ctx, roomId).encryptState();
  }

  /** Discards the room's outbound session (a member left, or the caller wants rotation). */
  public void invalidateGroupSession(String roomId) {
    run(changes -> groups.invalidate(roomId, changes));
  }

  /**
   * A claim for one-time keys of the devices of {@code users} we have no Olm session with, or
   * empty. Send it and feed the response back before {@link #shareRoomKey}.
   */
  public Optional<OutgoingRequest> getMissingSessions(Collection<String> users) {
    ownDevice.ensureNoConflict();
    Map<String, List<DeviceKeys>> all = new LinkedHashMap<>();
    for (String user : users) {
      all.put(user, new ArrayList<>(devices.devices(user).values()));
    }
    return Optional.ofNullable(olm.claimRequest(all));
  }

  /** {@link #shareRoomKey(String, Collection, SharingStrategy)} with the configured strategy. */
  public List<OutgoingRequest> shareRoomKey(String roomId, Collection<String> users) {
    return shareRoomKey(roomId, users, ctx.config.sharingStrategy());
  }

  /**
   * Shares the room's outbound session with every device of {@code users} (the room members)
   * allowed by {@code strategy}, rotating it first if a rotation rule applies, and withholds it
   * from the others. Send the returned requests and feed each response back: a device counts as
   * having the key once its request is acknowledged.
   */
  public List<OutgoingRequest> shareRoomKey(
      String roomId, Collection<String> users, SharingStrategy strategy) {
    ownDevice.ensureNoConflict();
    return step(changes -> groups.share(roomId, users, strategy, changes));
  }

  /**
   * Encrypts a room event with the room's outbound session. The next message index is saved before
   * this returns.
   *
   * @return the {@code m.room.encrypted} content
   * @throws IllegalStateException if no room key was shared for the room yet
   */
  public ObjectNode encryptRoomEvent(String roomId, String type, ObjectNode content) {
    ownDevice.ensureNoConflict();
    return step(changes -> groups.encrypt(roomId, type, content, changes));
  }

  /**
   * Encrypts a room event for {@code PUT /rooms/{roomId}/send/m.room.encrypted/{txnId}} so that one
   * transaction id has one ciphertext: the first call for (room, {@code txnId}) encrypts (as {@link
   * #encryptRoomEvent(String, String, ObjectNode)}) and saves the ciphertext in the same step as
   * the index advance; later calls, also after a restart, return that ciphertext unchanged (and
   * ignore {@code type} and {@code content}, as the homeserver ignores a repeated transaction's
   * body) until {@link #forgetUnsentRoomEvent} or until it is a day old. At most {@value
   * UnsentRoomEvents#MAX_ENTRIES} such ciphertexts are kept; the oldest go first.
   *
   * @throws IllegalStateException if no room key was shared for the room yet and none is stored
   */
  public ObjectNode encryptRoomEvent(String roomId, String type, ObjectNode content, String txnId) {
    Objects.requireNonNull(txnId, "txnId");
    ownDevice.ensureNoConflict();
    return step(
        changes -> {
          Optional<ObjectNode> stored = unsent.get(roomId, txnId);
          if (stored.isPresent()) {
            return stored.get();
          }
          ObjectNode encrypted = groups.encrypt(roomId, type, content, changes);
          unsent.put(roomId, txnId, encrypted, changes);
          return encrypted;
        });
  }

  /**
   * Encrypts a state event (MSC4362 "Simplified encrypted state events"): the Megolm plaintext is
   * {@code {type, state_key, content, room_id}} with the real type and state key; send the returned
   * {@code m.room.encrypted} content with {@code PUT /rooms/{roomId}/state/m.room.encrypted/{key}}
   * where {@code key} is {@link EncryptedState#pack EncryptedState.pack(type, stateKey)}. The next
   * message index is saved before this returns, as for {@link #encryptRoomEvent}.
   *
   * @throws IllegalArgumentException if {@code type} is never encrypted ({@link
   *     EncryptedState#NEVER_ENCRYPTED}: send it as plain state), is empty or contains a colon, or
   *     the packed state key exceeds {@value EncryptedState#MAX_STATE_KEY_BYTES} bytes
   * @throws IllegalStateException if the room does not encrypt state ({@link #isStateEncrypted}:
   *     its {@code m.room.encryption} has no {@code encrypt_state_events}), or no room key was
   *     shared for the room yet
   */
  public ObjectNode encryptStateEvent(
      String roomId, String type, String stateKey, ObjectNode content) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(content, "content");
    EncryptedState.pack(type, stateKey);
    if (!isStateEncrypted(roomId)) {
      throw new IllegalStateException(
          "room "
              + roomId
              + " does not encrypt state events: its m.room.encryption has no "
              + EncryptedState.UNSTABLE_FLAG
              + " (send the event as plain state)");
    }
    ownDevice.ensureNoConflict();
    return step(changes -> groups.encrypt(roomId, type, stateKey, content, changes));
  }

  /** Whether a ciphertext for (room, {@code txnId}) is stored (see {@link #encryptRoomEvent}). */
  public boolean hasUnsentRoomEvent(String roomId, String txnId) {
    return unsent.get(roomId, txnId).isPresent();
  }

  /**
   * Forgets the stored ciphertext of (room, {@code txnId}): the homeserver answered its send, or
   * the send was given up. Does nothing if there is none.
   */
  public void forgetUnsentRoomEvent(String roomId, String txnId) {
    run(changes -> unsent.remove(roomId, txnId, changes));
  }

  /**
   * The room's {@code history_visibility} as last recorded by {@link #onHistoryVisibility}, if any
   * (the spec's default when absent is {@code shared}).
   */
  public Optional<String> historyVisibility(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    return Optional.ofNullable(RoomSettings.load(ctx, roomId).historyVisibility());
  }

  /**
   * Decrypts an {@code m.room.encrypted} room event. When the key is missing, a key request to our
   * own devices is recorded (sent by {@link #outgoingRequests}).
   */
  public DecryptionResult decryptRoomEvent(String roomId, ObjectNode event) {
    if (!io.github.mxe2ee.json.JsonLimits.within(event)) {
      return overLimits();
    }
    return step(
        changes -> {
          // Bad input never fails the caller's sync: a malformed event is a classified value.
          DecryptionResult result = decryptOne(roomId, event);
          requestKeyIfMissing(roomId, event, result, changes);
          return result;
        });
  }

  /**
   * Decrypts a batch of {@code m.room.encrypted} events of one room (a backlog after a restart, a
   * {@code /messages} page): the results are those of {@link #decryptRoomEvent} for each event in
   * order, but the Megolm signatures of each session's events are verified as one Ed25519 batch,
   * about four times cheaper per event. Key requests for missing keys are recorded as there.
   *
   * @return one result per event, in order
   */
  public List<DecryptionResult> decryptRoomEvents(String roomId, List<ObjectNode> events) {
    List<ObjectNode> bounded = new ArrayList<>();
    for (ObjectNode event : events) {
      if (io.github.mxe2ee.json.JsonLimits.within(event)) {
        bounded.add(event);
      }
    }
    if (bounded.size() != events.size()) {
      // Events over the JSON bounds are MALFORMED without being looked at; the rest go on.
      List<DecryptionResult> inner =
          bounded.isEmpty() ? List.of() : decryptRoomEvents(roomId, bounded);
      List<DecryptionResult> out = new ArrayList<>();
      int j = 0;
      for (ObjectNode event : events) {
        out.add(j < bounded.size() && bounded.get(j) == event ? inner.get(j++) : overLimits());
      }
      return out;
    }
    return step(
        changes -> {
          flushReplay = true;
          List<DecryptionResult> results;
          try {
            results = groups.decryptAll(roomId, events);
          } catch (io.github.mxe2ee.store.StoreException e) {
            throw e;
          } catch (RuntimeException e) {
            // A malformed batch falls back to one at a time, where each bad event is classified.
            results = new ArrayList<>();
            for (ObjectNode event : events) {
              results.add(decryptOne(roomId, event));
            }
          }
          for (int i = 0; i < results.size(); i++) {
            try {
              requestKeyIfMissing(roomId, events.get(i), results.get(i), changes);
            } catch (io.github.mxe2ee.store.StoreException e) {
              throw e;
            } catch (RuntimeException e) {
              // One event's side effect must not fail the batch: its result stands, counted.
              ctx.counters.eventsFailed++;
            }
          }
          return results;
        });
  }

  private static DecryptionResult overLimits() {
    return new DecryptionResult.UnableToDecrypt(
        DecryptionFailure.MALFORMED, null, "rejected: over JSON limits");
  }

  private DecryptionResult decryptOne(String roomId, ObjectNode event) {
    try {
      return groups.decrypt(roomId, event);
    } catch (io.github.mxe2ee.store.StoreException e) {
      throw e;
    } catch (RuntimeException e) {
      return new DecryptionResult.UnableToDecrypt(
          DecryptionFailure.MALFORMED, null, "rejected: " + e.getClass().getSimpleName());
    }
  }

  private void requestKeyIfMissing(
      String roomId, ObjectNode event, DecryptionResult result, Changes changes) {
    if (result instanceof DecryptionResult.UnableToDecrypt u
        && (u.reason() == DecryptionFailure.MISSING_SESSION
            || u.reason() == DecryptionFailure.UNKNOWN_INDEX)) {
      String sessionId = event.path("content").path("session_id").asText(null);
      if (sessionId != null) {
        keyRequests.want(roomId, sessionId, changes);
        // Ids over the bound are never asked for (nor put in a URL or a log line).
        if (MachineLimits.saneId(sessionId) && MachineLimits.saneId(roomId)) {
          backups.want(roomId, sessionId);
        }
      }
    }
  }

  /**
   * Sets how long a missing room key is waited for before {@link #outgoingRequests} asks our own
   * devices for it (issue 12, "late keys": a room key is sent to-device just before its first
   * message and often arrives one sync after it; asking at once mostly asks for keys in flight).
   * Default 0: at once. Measured with the configured clock from the decrypt that found the key
   * missing; in memory only (a request stored before a restart is sent at once after it). {@link
   * #requestRoomKey} is never delayed. The caller must call {@link #outgoingRequests} again after
   * the delay.
   *
   * @throws IllegalArgumentException if negative
   */
  public void setKeyRequestDelay(long delayMs) {
    if (delayMs < 0) {
      throw new IllegalArgumentException("delayMs must not be negative, was " + delayMs);
    }
    ctx.keyRequestDelayMs = delayMs;
  }

  /**
   * Asks our own devices for the room key of an event we cannot decrypt, now (also when a request
   * was already sent: a retry). The request stays in {@link #outgoingRequests} until acknowledged.
   *
   * @return the {@code m.room_key_request} to-device request
   * @throws IllegalArgumentException if the event has no {@code content.session_id}
   */
  public List<OutgoingRequest> requestRoomKey(String roomId, ObjectNode event) {
    String sessionId = event.path("content").path("session_id").asText(null);
    if (sessionId == null) {
      throw new IllegalArgumentException("event has no content.session_id");
    }
    ownDevice.ensureNoConflict();
    return step(
        changes -> {
          OutgoingRequest r = keyRequests.requestNow(roomId, sessionId, changes);
          queued.put(r.requestId(), r);
          return List.of(r);
        });
  }

  // ------------------------------------------------------------ cross-signing

  /**
   * Backs up room keys to the server-side backup {@code version} (spec: "Server-side key backups"),
   * encrypted for {@code key}: from now on {@link #outgoingRequests} carries a {@link
   * RequestType#KEYS_BACKUP} upload whenever sessions are not in that version yet (new ones
   * included), {@value KeyBackups#BATCH_SIZE} at a time. Enabling another version than before backs
   * everything up again. The caller must have established that the backup's {@code auth_data} is
   * trusted (signed by the user's master key or a verified own device, or matching a decryption key
   * from a trusted source); this method does not check. Persisted.
   */
  public void enableKeyBackup(String version, io.github.mxe2ee.backup.BackupEncryptionKey key) {
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(key, "key");
    run(changes -> backups.enable(version, key, changes));
  }

  /** Stops backing up room keys. Also happens when the server reports the version gone. */
  public void disableKeyBackup() {
    run(changes -> backups.disable(changes));
  }

  /**
   * For the decrypt-failure path: the request that looks up, in the enabled key backup, the session
   * of an event we could not decrypt (once per session and machine lifetime; see {@link
   * #bootstrapKeyBackup}). Send it and feed the answer to {@link #markRequestAsSent} (a 404 to
   * {@link #markRequestAsFailed}): the key is imported, unauthenticated, and the event can be
   * decrypted again. The same request is also in {@link #outgoingRequests} until answered.
   *
   * @return empty if backup is off, we lack its key, the event names no session, or the session was
   *     looked up already
   */
  public Optional<OutgoingRequest> keyBackupLookup(String roomId, ObjectNode event) {
    String sessionId = event.path("content").path("session_id").asText(null);
    if (sessionId == null || !MachineLimits.saneId(sessionId) || !MachineLimits.saneId(roomId)) {
      return Optional.empty();
    }
    return backups.lookupNow(roomId, sessionId);
  }

  /** Room keys imported from the server-side backup since this machine was opened. */
  public long roomKeysRestoredFromBackup() {
    return ctx.counters.roomKeysRestoredFromBackup;
  }

  /**
   * Secrets sent to our own verified devices in answer to {@code m.secret.request}, and secret
   * requests not answered (another user, a device not verified, a secret we do not hold), since
   * this machine was opened.
   */
  public long[] secretRequestCounts() {
    return new long[] {ctx.counters.secretsShared, ctx.counters.secretRequestsRefused};
  }

  /** The backup version room keys go to, if backup is enabled. */
  public Optional<String> keyBackupVersion() {
    return backups.version();
  }

  /**
   * Imports the room keys of a {@code GET /room_keys/keys} response, decrypted with the backup's
   * {@code key}, as {@link #importRoomKeys} does (unauthenticated; new or better copies only).
   * Entries that do not decrypt or parse are skipped and counted in the result's total.
   *
   * @throws IllegalArgumentException if the response has no {@code rooms} object
   */
  public RoomKeyImportResult importBackedUpRoomKeys(
      io.github.mxe2ee.backup.BackupDecryptionKey key, JsonNode roomKeysResponse) {
    Objects.requireNonNull(key, "key");
    KeyBackups.Restored restored = KeyBackups.decrypt(key, roomKeysResponse);
    RoomKeyImportResult result = importRoomKeys(restored.keys());
    return new RoomKeyImportResult(result.total() + restored.failed(), result.imported());
  }

  /**
   * The room keys this machine holds, each at its first known index, for a key export file ({@link
   * io.github.mxe2ee.export.KeyExportFile#exportRoomKeys}): every stored inbound group session that
   * {@code filter} accepts (for example one room's, or all). Reads the store page by page; changes
   * nothing.
   */
  public List<ExportedRoomKey> exportRoomKeys(Predicate<InboundGroupSessionRecord> filter) {
    Objects.requireNonNull(filter, "filter");
    return groups.exportRoomKeys(filter);
  }

  /**
   * Imports room keys, such as those of a key export file ({@link
   * io.github.mxe2ee.export.KeyExportFile#importRoomKeys}) a person made in Element. A key is kept
   * if the machine has no copy of its session or only a later-starting one; the keys come in
   * unauthenticated (events they decrypt say so), since a file proves nothing about the sender.
   * Saved in one step.
   */
  public RoomKeyImportResult importRoomKeys(List<ExportedRoomKey> keys) {
    Objects.requireNonNull(keys, "keys");
    return step(changes -> groups.importRoomKeys(keys, changes));
  }

  /**
   * How many room keys (over Olm, forwarded, from a file or a backup) this machine refused since it
   * was opened because another ratchet or signing key already held their (room, sender key, session
   * id), or the session id had {@value GroupSessions#MAX_COPIES_PER_SESSION} copies in the room
   * already. Each is also logged (ids only) at WARNING.
   */
  public long conflictingRoomKeysRefused() {
    return groups.conflictingKeysRefused();
  }

  /**
   * Creates our cross-signing identity: returns the key upload ({@link
   * RequestType#SIGNING_KEYS_UPLOAD}, which may need user-interactive auth) and the signature
   * upload of this device. The private keys are saved first.
   */
  public List<OutgoingRequest> bootstrapCrossSigning() {
    ownDevice.ensureNoConflict();
    return step(changes -> crossSigning.bootstrap(changes));
  }

  /**
   * Puts our cross-signing identity on the server and its private keys in secret storage
   * (docs/IDENTITY.md; spec {@code end_to_end_encryption.md}, "Cross-signing", and {@code
   * secrets.md}), one step per call: the first call of a run returns requests that read the
   * server's state; after their answers are fed back, each call returns the next requests, until
   * {@link IdentityStep.Done} or {@link IdentityStep.Refused}. A new run starts with the call after
   * that (or after a restart) and only does what is missing, so it is idempotent and resumes a
   * half-finished bootstrap.
   *
   * <p>Guarantees: private keys are saved in this store before any request that publishes or stores
   * them leaves; they are written to secret storage (encrypted under {@code recoveryKey}) before
   * the public keys are uploaded; a master key the server already has is never replaced (without
   * its private key the run is {@link IdentityStep.Refused}); a secret storage default key that
   * {@code recoveryKey} does not open is never replaced. With the recovery key, a new device or a
   * lost store restores the same identity from secret storage.
   *
   * @param recoveryKey the secret storage key; held in memory for the run only
   */
  public IdentityStep bootstrapIdentity(io.github.mxe2ee.secrets.SecretStorageKey recoveryKey) {
    Objects.requireNonNull(recoveryKey, "recoveryKey");
    return step(
        changes -> {
          if (identitySetup == null) {
            identitySetup = new IdentitySetup(ctx, account, devices, crossSigning, recoveryKey);
          }
          IdentityStep next = identitySetup.next(changes);
          if (!(next instanceof IdentityStep.Send)) {
            identitySetup = null;
          }
          return next;
        });
  }

  /**
   * Turns server-side key backup on (docs/KEY_BACKUP.md; spec {@code end_to_end_encryption.md},
   * "Server-side key backups"), one step per call like {@link #bootstrapIdentity}, which must have
   * finished first: the first call of a run reads the server's current backup version and the
   * backup key in secret storage; each later call returns the next requests, until {@link
   * BackupStep.Enabled} or {@link BackupStep.Disabled}. Idempotent and resumable: a new run (the
   * call after the end, or after a restart) only does what is missing.
   *
   * <p>If the server has no version: the backup key in secret storage (else the one in this store,
   * else a new one) is saved in this store, written to secret storage under {@code recoveryKey} if
   * it is not there, and only then a version is created whose {@code auth_data} is signed by this
   * device and our master key. If the server has a version: it is used only if its {@code
   * auth_data} is signed by our master key or a verified own device and its public key is the
   * backup key in secret storage; otherwise nothing is uploaded ({@link BackupStep.Disabled}, a
   * backup enabled before is switched off) and nothing is replaced.
   *
   * <p>Once enabled, {@link #outgoingRequests} uploads room keys ({@link RequestType#KEYS_BACKUP}),
   * restores the whole backup once into a store that has not restored this version ({@link
   * RequestType#BACKUP_KEYS_GET}, for a new device or a lost store), and looks up the key of each
   * session an event lacks (once per session, a few at a time). Restored keys are unauthenticated.
   *
   * @param recoveryKey the secret storage key; held in memory for the run only
   */
  public BackupStep bootstrapKeyBackup(io.github.mxe2ee.secrets.SecretStorageKey recoveryKey) {
    Objects.requireNonNull(recoveryKey, "recoveryKey");
    ownDevice.ensureNoConflict();
    return step(
        changes -> {
          if (backupSetup == null) {
            backupSetup =
                new BackupSetup(ctx, account, devices, crossSigning, backups, recoveryKey);
          }
          BackupStep next = backupSetup.next(changes);
          if (!(next instanceof BackupStep.Send)) {
            backupSetup = null;
          }
          return next;
        });
  }

  /**
   * The master key of {@code userId}'s cross-signing identity as last received from the server
   * (validated and stored), if any. For our own user, compare with {@link #hasCrossSigningKeys()}:
   * true means we hold its private key.
   */
  public Optional<io.github.mxe2ee.crypto.Ed25519PublicKey> masterKey(String userId) {
    return Optional.ofNullable(devices.identity(userId)).map(id -> id.master().publicKey());
  }

  /** True if we hold the private master key of our identity. */
  public boolean hasCrossSigningKeys() {
    return crossSigning.holdsMasterKey();
  }

  /**
   * Verifies another device of our own user by fingerprint: checks its Ed25519 key, signs it with
   * our self-signing key and returns the signature upload.
   *
   * @param expectedEd25519 the fingerprint the operator compared, unpadded base64
   * @throws IllegalArgumentException if the device is unknown or its key differs
   * @throws IllegalStateException if we hold no self-signing key
   */
  public OutgoingRequest verifyOwnDevice(String deviceId, String expectedEd25519) {
    ownDevice.ensureNoConflict();
    DeviceKeys device = devices.devices(ctx.userId()).get(deviceId);
    if (device == null) {
      throw new IllegalArgumentException("unknown device of our user: " + deviceId);
    }
    if (!device.ed25519().toBase64().equals(expectedEd25519)) {
      throw new IllegalArgumentException("fingerprint of " + deviceId + " does not match");
    }
    return step(changes -> crossSigning.signOwnDevice(device, changes));
  }

  // ------------------------------------------------------------ verification

  /**
   * The SAS verifications of this device (spec: "Short Authentication String (SAS) verification"),
   * live and recently ended: incoming {@code m.key.verification.*} to-device events are routed here
   * by {@link #receiveSyncChanges}; requests from others wait in {@code REQUEST_RECEIVED} for the
   * caller to accept or cancel them. What a verification sends ({@code accept()}, {@code
   * confirm()}, {@code cancel()}) leaves through the next {@link #outgoingRequests}, which also
   * times flows out. When a flow succeeds, the verified device is marked {@link
   * LocalTrust#VERIFIED} if its Ed25519 key is still the one verified. Drive the returned objects
   * from the machine's thread only. Not persisted: a restart ends every flow.
   */
  public Verifications verifications() {
    return verifications;
  }

  /**
   * Starts a SAS verification with a known device: the {@code m.key.verification.request} is in the
   * next {@link #outgoingRequests}; when the device answers {@code ready}, the start follows.
   *
   * @throws IllegalArgumentException if the device is unknown (query its keys first)
   * @throws IllegalStateException if too many verifications are in progress
   */
  public SasVerification startVerification(String userId, String deviceId) {
    if (devices.devices(userId).get(deviceId) == null) {
      throw new IllegalArgumentException("unknown device " + userId + "/" + deviceId);
    }
    return verifications.request(userId, deviceId);
  }

  private void routeVerification(ReceivedToDevice received) {
    if ((received.kind() != ReceivedToDevice.Kind.PLAINTEXT
            && received.kind() != ReceivedToDevice.Kind.DECRYPTED)
        || received.type() == null
        || !received.type().startsWith(Verifications.EVENT_PREFIX)) {
      return;
    }
    // The registry checks the sender user and the transaction id, the flow checks from_device.
    try {
      verifications.receive(received.type(), received.sender(), received.content());
    } catch (RuntimeException e) {
      // Bad input never fails the sync: a verification message that breaks a flow's invariants
      // is dropped (the flow times out if it cannot go on).
    }
  }

  /** Times flows out and queues what they want sent as to-device requests. */
  private void queueVerificationMessages() {
    verifications.checkTimeouts();
    for (VerificationMessage m : verifications.drainOutgoing()) {
      ObjectNode body = Context.object();
      body.putObject("messages").putObject(m.userId()).set(m.deviceId(), m.content());
      OutgoingRequest r =
          new OutgoingRequest(ctx.newRequestId(), RequestType.TO_DEVICE, body, m.type());
      queued.put(r.requestId(), r);
    }
  }

  /**
   * Marks the devices verified by finished flows, if their key is still the one verified, and signs
   * what they proved with our cross-signing keys (if we hold them): a device of our own user with
   * the self-signing key, another user's master key with the user-signing key. The signature
   * uploads leave with the next {@link #outgoingRequests}; they are not persisted (a restart before
   * they leave loses them, the local trust stays).
   */
  private List<OutgoingRequest> applyVerified() {
    List<OutgoingRequest> signatures = new ArrayList<>();
    for (VerifiedKeys k : verifications.drainVerified()) {
      if (k.deviceKey() != null) {
        Optional<DeviceInfo> device = device(k.userId(), k.deviceId());
        if (device.isPresent() && device.get().keys().ed25519().equals(k.deviceKey())) {
          setLocalTrust(k.userId(), k.deviceId(), LocalTrust.VERIFIED);
          if (k.userId().equals(ctx.userId()) && crossSigning.holdsKeys()) {
            DeviceKeys keys = device.get().keys();
            signatures.add(step(changes -> queue(crossSigning.signOwnDevice(keys, changes))));
          }
        }
      }
      io.github.mxe2ee.device.UserIdentity identity = devices.identity(k.userId());
      if (k.masterKey() != null
          && !k.userId().equals(ctx.userId())
          && crossSigning.holdsMasterKey()
          && crossSigning.holdsKeys()
          && identity != null
          && identity.master().publicKey().equals(k.masterKey())) {
        signatures.add(step(changes -> queue(crossSigning.signUserIdentity(identity, changes))));
      }
    }
    return signatures;
  }

  // ---------------------------------------------------------------- MSC4268 room key bundles

  /**
   * Builds the MSC4268 room key bundle of {@code roomId} from the inbound sessions held now: every
   * session of the room flagged {@code shared_history} in {@code room_keys}, every other one in
   * {@code withheld} with code {@code m.history_not_shared}. Reads only; changes nothing. Encrypt
   * it with {@link RoomKeyBundle#encrypt}, upload the ciphertext, then call {@link
   * #shareRoomKeyBundle} with the resulting file.
   */
  public RoomKeyBundle buildRoomKeyBundle(String roomId) {
    Objects.requireNonNull(roomId, "roomId");
    ownDevice.ensureNoConflict();
    return bundles.build(roomId);
  }

  /**
   * {@link #shareRoomKeyBundle(String, String, EncryptedFile, SharingStrategy)} with the configured
   * sharing strategy.
   */
  public RoomKeyBundleShare shareRoomKeyBundle(String roomId, String userId, EncryptedFile file) {
    return shareRoomKeyBundle(roomId, userId, file, ctx.config.sharingStrategy());
  }

  /**
   * Sends an uploaded bundle's location and key to the invitee: an Olm-encrypted {@code
   * m.room_key_bundle} (with {@code sender_device_keys}) to each of {@code userId}'s devices that
   * is signed by its owner's cross-signing identity (MSC4268) and allowed by {@code strategy}.
   * Before calling, make the invitee's device list current ({@link #updateTrackedUsers}, then the
   * keys query from {@link #outgoingRequests}) and claim missing Olm sessions ({@link
   * #getMissingSessions}); devices without a session are skipped with {@code m.no_olm}. Send the
   * returned requests and feed each response back.
   *
   * @param file the bundle's {@code EncryptedFile}, with the {@code mxc://} URL it was uploaded to
   * @throws IllegalArgumentException if {@code file} has no URL
   */
  public RoomKeyBundleShare shareRoomKeyBundle(
      String roomId, String userId, EncryptedFile file, SharingStrategy strategy) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(userId, "userId");
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(strategy, "strategy");
    ownDevice.ensureNoConflict();
    return step(changes -> bundles.share(roomId, userId, file, strategy, changes));
  }

  /**
   * The {@code m.room_key_bundle} announcement {@code inviter} sent us for {@code roomId} and that
   * was not imported or discarded yet, if any.
   */
  public Optional<ReceivedRoomKeyBundle> receivedRoomKeyBundle(String roomId, String inviter) {
    return bundles.received(roomId, inviter);
  }

  /** Every announcement kept (see {@link #receivedRoomKeyBundle}), ordered by room id. */
  public List<ReceivedRoomKeyBundle> receivedRoomKeyBundles() {
    return bundles.receivedAll();
  }

  /**
   * Imports a downloaded room key bundle: {@code ciphertext} is the file of the announcement {@code
   * inviter} sent for {@code roomId} ({@link #receivedRoomKeyBundle}). The caller asserts that
   * {@code inviter} invited us to the room (the {@code sender} of our {@code m.room.member}
   * invite). Checks, in order: an announcement from {@code inviter} exists; its sending device is
   * signed by the inviter's self-signing key that the inviter's master key signs; size within
   * {@link ReceivedRoomKeyBundle#MAX_BUNDLE_BYTES}; the SHA-256 matches; the plaintext is an
   * MSC4268 bundle whose every entry is for {@code roomId}. Any failure imports nothing, is logged
   * (ids only) and returned as {@link RoomKeyBundleImport.Rejected}; the announcement is discarded
   * unless the reason says it is kept. On success the keys are stored as unauthenticated copies
   * vouched for by {@code inviter} (reported as {@link DecryptionResult.Decrypted#forwarder()}),
   * flagged {@code shared_history}, listed by {@link #takeAvailableSessions}; the {@code withheld}
   * entries become failure reasons; the announcement is deleted.
   */
  public RoomKeyBundleImport importRoomKeyBundle(String roomId, String inviter, byte[] ciphertext) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(inviter, "inviter");
    Objects.requireNonNull(ciphertext, "ciphertext");
    return step(changes -> bundles.importBundle(roomId, inviter, ciphertext, changes));
  }

  /** Forgets the announcement {@code inviter} sent for {@code roomId} (for example after 24 h). */
  public void discardRoomKeyBundle(String roomId, String inviter) {
    Objects.requireNonNull(roomId, "roomId");
    Objects.requireNonNull(inviter, "inviter");
    run(changes -> changes.deletePendingRoomKeyBundle(roomId, inviter));
  }

  private OutgoingRequest queue(OutgoingRequest r) {
    queued.put(r.requestId(), r);
    return r;
  }

  /** The machine's device and identity caches, as the verifications see them. */
  private final class MachineKeyDirectory implements KeyDirectory {
    @Override
    public Optional<io.github.mxe2ee.crypto.Ed25519PublicKey> deviceKey(
        String userId, String deviceId) {
      return Optional.ofNullable(devices.devices(userId).get(deviceId)).map(DeviceKeys::ed25519);
    }

    @Override
    public Optional<io.github.mxe2ee.crypto.Ed25519PublicKey> masterKey(String userId) {
      return Optional.ofNullable(devices.identity(userId)).map(id -> id.master().publicKey());
    }

    @Override
    public Optional<io.github.mxe2ee.crypto.Ed25519PublicKey> ownMasterKey() {
      return crossSigning.holdsMasterKey() ? masterKey(ctx.userId()) : Optional.empty();
    }
  }

  /**
   * Saves the Megolm replay records not yet saved (single decrypts since the last save, see
   * SECURITY.md "Replay records survive a restart") and drops queued requests. Call it before
   * closing the store.
   *
   * @throws io.github.mxe2ee.store.StoreException if that save fails (the records are then lost)
   */
  @Override
  public void close() {
    queued.clear();
    if (replay.hasPending()) {
      run(changes -> flushReplay = true);
    }
  }

  @Override
  public String toString() {
    return "OlmMachine[" + ctx.userId() + "/" + ctx.deviceId() + "]";
  }
}
