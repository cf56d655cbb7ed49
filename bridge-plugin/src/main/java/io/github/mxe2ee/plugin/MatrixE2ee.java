package io.github.mxe2ee.plugin;

import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.github.mxe2ee.plugin.latekeys.LateKeyStats;
import io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics;
import io.github.mxe2ee.plugin.verification.Verification;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Optional;

/**
 * End-to-end encryption for a Vert.x bot: the one object a bot adds to its {@code /sync} loop
 * (ARCHITECTURE.md, "bridge-plugin: the Vert.x adapter"). Every method returns a {@link Future};
 * none blocks the event loop: the single-threaded {@link io.github.mxe2ee.machine.OlmMachine} and
 * its SQLite store run on one dedicated worker, in call order.
 *
 * <p>Use: log the {@link HomeserverClient} in, {@link #start()}, pass every {@code /sync} body
 * through {@link #onSync} (it returns the body with encrypted timeline events decrypted), and send
 * with {@link #send} (or {@link #encrypt} if you send yourself). {@link #close()} at the end.
 *
 * <p>Decrypted events keep their place in the timeline with the decrypted {@code type} and {@code
 * content}, plus an {@code mxe2ee} object: {@code {encrypted: true, sender_device, trust,
 * authenticated}}; events that cannot be decrypted stay encrypted with {@code mxe2ee:
 * {decryption_failure, withheld_code?}}.
 */
public interface MatrixE2ee {

  /**
   * Creates the facade; nothing happens until {@link #start()}.
   *
   * @param client a client that is (or will be, before {@code start}) logged in
   */
  static MatrixE2ee create(Vertx vertx, HomeserverClient client, E2eeOptions options) {
    return new MatrixE2eeImpl(vertx, client, new E2eeOptions(options));
  }

  /**
   * Opens the store and the machine, uploads keys. Fails if the client is not logged in, if called
   * twice, or after {@link #close()}; with a {@link io.github.mxe2ee.store.StoreException} of
   * reason {@code LOCKED} if another process (or instance) serves this device's store; and with a
   * {@link io.github.mxe2ee.machine.DeviceIdentityConflictException} if the server already holds
   * other keys for this device id than the store (the store was lost or replaced): nothing is
   * uploaded then; log in with a new device id, or restore the store and its pickle key.
   */
  Future<Void> start();

  /**
   * Feeds the E2EE parts of a {@code /sync} body to the machine, follows room state (encryption,
   * history visibility, departures) and decrypts timeline events. The body's {@code next_batch} is
   * saved in the same store transaction as its to-device and device-list changes ({@link
   * #syncToken()}), so a loop that resumes from it processes each response at most once.
   *
   * <p>Hostile input never throws out of here: the body is read without recursion, events over the
   * JSON bounds ({@link io.github.mxe2ee.plugin.http.SyncBodyParser}) are dropped and counted, and
   * parts of the wrong shape ({@code rooms} not an object, a room that is a string, {@code events}
   * not an array, an event that is not an object, ...) are removed and counted before anything is
   * acted on; both are logged as a WARNING with the counts. An event whose processing fails is
   * marked with {@code mxe2ee.decryption_failure = "PROCESSING_ERROR"} and the others go on.
   *
   * @return a copy of {@code sync} with encrypted timeline events decrypted and malformed parts
   *     removed; a failed future with {@link IllegalStateException} before {@link #start()} or
   *     after {@link #close()}, or with {@link io.github.mxe2ee.plugin.http.SyncBodyException} if
   *     the body as a whole breaks a document bound
   */
  Future<JsonObject> onSync(JsonObject sync);

  /**
   * The {@code next_batch} saved with the last processed sync response, if any: where a restarted
   * sync loop resumes. Fails with {@link IllegalStateException} before start or after close.
   */
  Future<Optional<String>> syncToken();

  /**
   * Encrypts an event for a room without sending it: shares the room key as {@link #send(String,
   * String, JsonObject, String)} does (same per-room queue, same recipients), then encrypts with
   * the next message index. Each call uses a new index; to send, prefer {@code send}, whose retries
   * reuse one ciphertext.
   *
   * @return the {@code m.room.encrypted} content; {@link IllegalStateException} before start or
   *     after close
   */
  Future<JsonObject> encrypt(String roomId, String type, JsonObject content);

  /**
   * {@link #send(String, String, JsonObject, String)} with a fresh random transaction id, fixed
   * before the first try and kept across this call's retries.
   *
   * @return the event id
   */
  Future<String> send(String roomId, String type, JsonObject content);

  /**
   * Sends an event: encrypted if the room is encrypted (its {@code m.room.encryption} state was
   * seen in a sync, or the server has it: asked once with {@code GET
   * /rooms/{roomId}/state/m.room.encryption/}), otherwise plain, or, with {@link
   * E2eeOptions#setRefuseUnencrypted}, not at all ({@link UnencryptedRoomException}).
   *
   * <p><b>Who gets the room key.</b> Every device (allowed by the sharing strategy) of the room's
   * joined members and, unless the room's history visibility is {@code joined}, of its invited
   * members (spec, "Room History Visibility": an invitee may read what is sent from the invite on).
   * The member list comes from one {@code GET /rooms/{roomId}/members} per room and process, then
   * from the {@code m.room.member} events of every sync given to {@link #onSync} or the bot loop; a
   * member who leaves or is banned makes the next send rotate the room key.
   *
   * <p><b>Order and key sharing.</b> Sends (and {@link #encrypt}s) to one room run one at a time in
   * call order, each {@code PUT} answered before the next starts; so concurrent sends to a new room
   * make one key-sharing round (one {@code /keys/query}, one {@code /keys/claim}, one {@code
   * m.room_key} per device) and reach the room in call order. At most {@value
   * io.github.mxe2ee.plugin.send.RoomSendQueue#MAX_QUEUED_PER_ROOM} sends wait per room; more fail
   * at once with {@link io.github.mxe2ee.plugin.send.SendQueueFullException}.
   *
   * <p><b>Retries.</b> A {@code 429 M_LIMIT_EXCEEDED} is sent again after the server's {@code
   * retry_after_ms} (or {@code Retry-After}); connection failures, timeouts and {@code 502}/{@code
   * 503}/{@code 504} after an exponential backoff with jitter; other errors are final. Tries and
   * total time are bounded by {@link E2eeOptions#setRetryPolicy}; then the future fails with the
   * last error ({@link HomeserverException} for an HTTP error).
   *
   * <p><b>Idempotence.</b> {@code txnId} is the Client-Server API's transaction id ({@code PUT
   * /rooms/{roomId}/send/{eventType}/{txnId}}): the homeserver answers a repeated id of the same
   * device with the first event instead of sending another (Synapse keeps them per device for 24
   * hours), so deriving it from what is being answered makes a retry after a crash idempotent. One
   * transaction id has one ciphertext: the Megolm ciphertext is saved with its message index before
   * the first try, every retry (by this call, or by a later call with the same {@code txnId}, also
   * after a restart) sends that ciphertext again, and it is forgotten once the server answered (or
   * refused for good). A later call with the same {@code txnId} and other content sends the first
   * content, as the homeserver would.
   *
   * @return the event id; {@link IllegalStateException} before start or after close
   */
  Future<String> send(String roomId, String type, JsonObject content, String txnId);

  /**
   * Whether the room is encrypted: known from its state ({@code m.room.encryption} seen in a sync
   * or fetched before), else asked from the server once ({@code GET
   * /rooms/{roomId}/state/m.room.encryption/}, 404 meaning no).
   *
   * @return failed with {@link IllegalStateException} before start or after close
   */
  Future<Boolean> isRoomEncrypted(String roomId);

  /**
   * Encrypted attachments: {@link io.github.mxe2ee.plugin.media.Attachments#sendFile} and {@link
   * io.github.mxe2ee.plugin.media.Attachments#downloadFile}, streaming, with the limits of {@link
   * E2eeOptions#getMedia()} (docs/ATTACHMENTS.md). The same instance on every call; its HTTP client
   * is closed by {@link #close()}.
   */
  io.github.mxe2ee.plugin.media.Attachments attachments();

  /**
   * Sets the handler that receives a {@link Verification} each time a SAS verification of this
   * device changes state (docs/VERIFICATION.md, "Through the plugin"); null removes it. May be set
   * before {@link #start()}. Requests are accepted or refused by the policy in {@link
   * E2eeOptions#getVerification()} before the handler sees them; in {@code KEYS_EXCHANGED} the
   * value carries the emoji and decimals, and the handler (or whoever holds the value) calls {@link
   * Verification#confirm()} or {@link Verification#mismatch()}. Runs on the event loop; an
   * exception it throws is logged and ignored.
   */
  MatrixE2ee verificationHandler(Handler<Verification> handler);

  /**
   * The verifications of this device, live and recently ended (10 minutes), as values.
   *
   * @return fails with {@link IllegalStateException} before start or after close
   */
  Future<List<Verification>> verifications();

  /**
   * Starts a SAS verification with {@code userId}'s device {@code deviceId} (its keys are queried
   * first if needed); the flow then proceeds as the handler shows. On success the device is marked
   * verified and signed with the bot's cross-signing keys (an own device with the self-signing key,
   * another user's master key with the user-signing key).
   *
   * @return the new flow; fails with {@link IllegalArgumentException} for a device the server does
   *     not know, {@link IllegalStateException} before start, after close or with too many flows
   */
  Future<Verification> startVerification(String userId, String deviceId);

  /**
   * The plugin's metrics (docs/METRICS.md): on the registry of {@link
   * E2eeOptions#setMeterRegistry}, or on the plugin's own simple registry ({@code
   * metrics().registry()}). Available from creation; never null.
   */
  Mxe2eeMetrics metrics();

  /** Our device's Ed25519 fingerprint (unpadded base64), after {@link #start()}; else null. */
  String fingerprint();

  /**
   * Closes the machine and releases the store (the SQLite file is closed, its {@code -wal} and
   * {@code -shm} files checkpointed and removed). Idempotent: later calls return the same future.
   * Calls made after it fail with {@link IllegalStateException}.
   */
  Future<Void> close();

  /**
   * Sets the handler of late decryptions (docs/PLUGIN.md, "Late keys"), replacing any earlier one;
   * null removes it. An encrypted timeline event whose key was missing is delivered undecryptable
   * (with {@code mxe2ee.decryption_failure} {@code MISSING_SESSION} or {@code UNKNOWN_INDEX} and
   * {@code mxe2ee.held: true}) and held; when its key arrives later (room key, forwarded key,
   * backup or key-file import), it is decrypted and passed to this handler, on the Vert.x context
   * of the call that processed the key, as the event would have been decrypted in {@link #onSync}
   * plus {@code room_id} and {@code mxe2ee.late: true}. Each held event is passed at most once;
   * held events are bounded ({@link io.github.mxe2ee.plugin.latekeys.LateKeyOptions}) and survive a
   * restart. Bots on {@link io.github.mxe2ee.plugin.bot.SyncLoop} also get them in {@link
   * io.github.mxe2ee.plugin.bot.SyncBatch#late()}, with the loop's at-least-once guarantee.
   *
   * @return this
   */
  MatrixE2ee onLateDecryption(Handler<JsonObject> handler);

  /**
   * Undecryptable events by cause, events held for a late key, dropped and re-emitted; all 0 before
   * {@link #start()}. Safe from any thread.
   */
  LateKeyStats lateKeyStats();

  // ------------------------------------------------------------- encrypted state (MSC4362)

  /**
   * Sends a state event: encrypted (MSC4362) if the room encrypts state (its {@code
   * m.room.encryption} has {@code io.element.msc4362.encrypt_state_events} or {@code
   * encrypt_state_events} true), else plain. Encrypted, it goes as {@code PUT
   * /rooms/{roomId}/state/m.room.encrypted/{type}:{stateKey}} after the same key sharing as {@link
   * #send} (same per-room queue), and its retries send one ciphertext; types that are never
   * encrypted ({@link io.github.mxe2ee.machine.EncryptedState#NEVER_ENCRYPTED}: member, power
   * levels, join rules, ...) always go plain. docs/PLUGIN.md, "Encrypted room state".
   *
   * @return the event id; failed with {@link IllegalArgumentException} if the room encrypts state
   *     and the type cannot be packed (empty, with a colon) or the packed key is over 255 bytes
   *     (never sent plain instead), with {@link IllegalStateException} before start or after close
   */
  Future<String> sendStateEvent(String roomId, String type, String stateKey, JsonObject content);

  /**
   * The room's current state as the bot reads it, encrypted state decrypted and its packed state
   * key checked (docs/PLUGIN.md, "Encrypted room state"). Kept from the syncs given to the plugin;
   * the first call for a room whose full state no sync brought in this process (after a restart)
   * fetches it once from the server.
   *
   * @return failed with {@link IllegalStateException} before start or after close
   */
  Future<io.github.mxe2ee.plugin.state.RoomState> roomState(String roomId);

  /**
   * Creates an encrypted room ({@code POST /createRoom} with {@code body}, whose {@code
   * initial_state} gets the {@code m.room.encryption} event); with {@code encryptState} that event
   * enables encrypted state (MSC4362), and the body's {@code name}, {@code topic} and encryptable
   * {@code initial_state} events are sent encrypted right after creation instead of in the clear.
   *
   * @return the room id
   */
  Future<String> createEncryptedRoom(JsonObject body, boolean encryptState);

  /**
   * Room history (MSC4268, docs/HISTORY_SHARING.md, "Plugin"): reading a room's past messages
   * decrypted, and inviting with history sharing.
   *
   * @throws IllegalStateException before {@link #start()} completed or after {@link #close()}
   */
  io.github.mxe2ee.plugin.history.RoomHistory history();

  /**
   * Invites {@code userId} to {@code roomId}; when history sharing is on for the room ({@link
   * io.github.mxe2ee.plugin.history.HistoryOptions#sharesIn}) it first shares the room's history
   * with the user's devices (an encrypted key bundle, MSC4268). See {@link
   * io.github.mxe2ee.plugin.history.RoomHistory#invite}.
   */
  default Future<io.github.mxe2ee.plugin.history.InviteResult> invite(
      String roomId, String userId) {
    return history().invite(roomId, userId);
  }
}
