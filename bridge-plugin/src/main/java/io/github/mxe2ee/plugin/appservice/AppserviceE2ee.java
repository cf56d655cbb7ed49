package io.github.mxe2ee.plugin.appservice;

import io.github.mxe2ee.plugin.MatrixE2ee;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.function.Function;

/**
 * End-to-end encryption for a Matrix application service (bridge mode; docs/BRIDGES.md, "The plugin
 * API"). One object per bridge: it owns the bridge bot's device, the ghosts' devices and the
 * transaction endpoint. Every method returns a {@link Future} and none blocks the event loop: each
 * device's {@link io.github.mxe2ee.machine.OlmMachine} runs on a worker of its own, all accounts in
 * the one store of {@link AppserviceOptions#getEngine()} under its one pickle key.
 *
 * <p>Use: {@link #create}, set the {@link #transactionHandler} (and query handlers), {@link
 * #start()}, then either {@link #listen} or {@link #mount} on your own router, and point the
 * registration's {@code url} there. Send with {@link #send(String, String, JsonObject, String)}.
 * {@link #close()} at the end.
 *
 * <p><b>Endpoint</b> (Application Service API): {@code PUT /_matrix/app/v1/transactions/{txnId}}
 * and the legacy {@code PUT /transactions/{txnId}}; {@code POST /_matrix/app/v1/ping}; {@code GET
 * /_matrix/app/v1/users/{userId}} and {@code GET /_matrix/app/v1/rooms/{roomAlias}} (and the legacy
 * {@code /users/…}, {@code /rooms/…}). Every request must carry the registration's {@code hs_token}
 * as {@code Authorization: Bearer}, or as the legacy {@code access_token} query parameter (if both
 * are given they must both match), compared in constant time: a missing token gets 401 {@code
 * M_UNAUTHORIZED}, a wrong one 403 {@code M_FORBIDDEN}, and neither changes anything. A transaction
 * body over {@link AppserviceOptions#getMaxTransactionBytes()} gets 413, a body that is not a JSON
 * object within the JSON bounds (or whose {@code events} is not an array) 400 {@code M_NOT_JSON} /
 * {@code M_BAD_JSON}; both change nothing.
 */
public interface AppserviceE2ee {

  /**
   * Creates the bridge's encryption; nothing happens until {@link #start()}.
   *
   * @param options copied; {@link AppserviceOptions#validate()} must pass
   * @throws IllegalArgumentException if a required option is missing
   */
  static AppserviceE2ee create(Vertx vertx, AppserviceOptions options) {
    return new io.github.mxe2ee.plugin.appservice.impl.AppserviceE2eeImpl(
        vertx, new AppserviceOptions(options));
  }

  /**
   * Opens the store, makes the bridge bot's device ready and starts its machine: asks {@code
   * whoami} with the {@code as_token} (which gives the bot's user id and so the server name), takes
   * the bot's device id (options, else the one remembered in the store, else a new one, remembered
   * before it is used), creates that device with MSC4190 ({@code PUT
   * /_matrix/client/v3/devices/{deviceId}?user_id=…}) or, where the server refuses that, with an
   * appservice login ({@code m.login.application_service}), and uploads its keys.
   *
   * @return fails if called twice or after close, or as {@link MatrixE2ee#start()} fails
   */
  Future<Void> start();

  /**
   * Serves the endpoint on a new HTTP server.
   *
   * @param host the address to bind, such as {@code 127.0.0.1}
   * @param port the port, 0 for any free one ({@link HttpServer#actualPort()})
   * @return the listening server; {@link #close()} closes it
   */
  Future<HttpServer> listen(String host, int port);

  /**
   * Asks the homeserver to ping this endpoint (Application Service API, {@code POST
   * /_matrix/client/v1/appservice/{appserviceId}/ping}): checks that the homeserver reaches the
   * endpoint with the right {@code hs_token}, and makes Synapse retry transactions it held back
   * while the bridge was down at once instead of after its backoff. {@link #listen} calls it once
   * the server listens (failures only logged); a bridge that {@link #mount}s calls it itself.
   *
   * @return the round trip in milliseconds as the homeserver measured it; fails with {@link
   *     IllegalStateException} without {@link AppserviceOptions#getAppserviceId()}, or with {@link
   *     io.github.mxe2ee.plugin.HomeserverException} as the homeserver reports
   */
  Future<Long> ping();

  /**
   * Sets the handler of late decryptions of room events (docs/BRIDGES.md, "Late decryptions"): an
   * event of a transaction whose room key had not arrived is handed over undecryptable (with {@code
   * mxe2ee.held: true}) and kept in the store; when its key arrives (in a later transaction), it is
   * decrypted and passed here, in order, <b>before that transaction is acknowledged</b>: the
   * transaction completes only when every returned future succeeded, and the event stays held until
   * then (a failure answers 500; the resent transaction, also after a restart, offers it again).
   * Without a handler such events are dropped once decrypted. Set it before {@link #listen} or
   * {@link #mount}.
   *
   * @return this
   */
  AppserviceE2ee lateDecryptionHandler(LateDecryptionHandler handler);

  /**
   * Adds the endpoint's routes to {@code router} (for a bridge that serves other paths on the same
   * server). Transactions are refused with 503 {@code M_UNAVAILABLE}, so the homeserver retries,
   * until {@link #start()} completed.
   *
   * @return {@code router}
   */
  Router mount(Router router);

  /**
   * Handles one transaction as the endpoint does, for bridges that run their own HTTP server (the
   * caller checks the {@code hs_token}). In order: a transaction id already completed is answered
   * at once, without handing anything over again; otherwise each device the transaction addresses
   * (the bot's and every ghost's named by {@code to_user_id}/{@code to_device_id}, a key count or a
   * fallback-key list, in stable or unstable spelling) takes its to-device events, device-list
   * changes and key counts in one machine step that also saves the transaction id, so a transaction
   * seen again never feeds a device twice; the room events (timeline and state) are decrypted with
   * the bridge bot's device, and those it lacks the key of are tried with the devices of up to 3 of
   * our ghosts joined to the room, which first read their to-device inbox (Synapse does not resend
   * the to-device messages of transactions it held while the bridge was down; docs/BRIDGES.md);
   * events of earlier transactions that the bot's device could decrypt only now go to the {@link
   * #lateDecryptionHandler} (and are released from the store once its futures succeeded); the
   * {@link #transactionHandler} gets the result; then the id is saved as completed.
   *
   * @param txnId the homeserver's transaction id, 1 to 255 characters
   * @param transaction the body; not modified
   * @return the decrypted transaction as given to the handler, or an empty object for a repeated
   *     id; fails with {@link IllegalArgumentException} for a malformed body (nothing changed),
   *     with the handler's failure, or with {@link IllegalStateException} before start or after
   *     close
   */
  Future<JsonObject> onTransaction(String txnId, JsonObject transaction);

  /**
   * Sets who receives each decrypted transaction before it is acknowledged; replaces any earlier
   * one. Without a handler transactions are still processed (keys kept) and acknowledged.
   *
   * @return this
   */
  AppserviceE2ee transactionHandler(TransactionHandler handler);

  /**
   * Sets the answer to the homeserver's user query ({@code GET /_matrix/app/v1/users/{userId}}):
   * the function gets the user id and returns true if the bridge created that user (then 200),
   * false if it does not know it (404 {@code M_NOT_FOUND}). Without one every query gets 404.
   *
   * @return this
   */
  AppserviceE2ee userQueryHandler(Function<String, Future<Boolean>> handler);

  /**
   * Sets the answer to the homeserver's room alias query ({@code GET
   * /_matrix/app/v1/rooms/{roomAlias}}), as {@link #userQueryHandler}.
   *
   * @return this
   */
  AppserviceE2ee roomQueryHandler(Function<String, Future<Boolean>> handler);

  /**
   * Makes a ghost ready to send encrypted messages: registers the user if the server does not have
   * it ({@code POST /register} with {@code m.login.application_service} and {@code inhibit_login},
   * {@code M_USER_IN_USE} meaning done); in {@link DeviceModel#GHOST_DEVICES}, takes its device id
   * from the store or makes a new one (remembered before use), creates that device with MSC4190,
   * opens its machine (uploading its keys) and creates, uploads and self-signs its cross-signing
   * identity if it has none (MSC4190 exempts the appservice's upload from user-interactive auth).
   * Idempotent and safe to call concurrently; at most {@link
   * AppserviceOptions#getMaxGhostSetupsInFlight()} run at once. {@link #send} calls it.
   *
   * @param userId a user in the appservice's exclusive namespace
   * @return the device; fails with {@link io.github.mxe2ee.plugin.HomeserverException} if the
   *     server refuses (for example a user outside the namespace)
   */
  Future<GhostDevice> ensureGhost(String userId);

  /**
   * {@link #send(String, String, JsonObject, String, String)} with a fresh random transaction id.
   *
   * @return the event id
   */
  Future<String> send(String roomId, String type, JsonObject content, String asUser);

  /**
   * Sends an event as {@code asUser} (a ghost, or the bot's own user id), encrypted if the room is
   * encrypted, as {@link MatrixE2ee#send(String, String, JsonObject, String)} does for a bot: room
   * key shared first by the device that encrypts (to the devices the sharing strategy allows,
   * withheld codes to the others), one Megolm ciphertext per {@code txnId} kept across retries and
   * restarts, per-room order. In {@link DeviceModel#GHOST_DEVICES} that device is the ghost's own
   * ({@link #ensureGhost} first) and the request is sent with {@code ?user_id=…&device_id=…}
   * (MSC4326); in {@link DeviceModel#BOT_DEVICE} the bot's device encrypts and the request is sent
   * with {@code ?user_id=…}. The ghost must already be joined to the room.
   *
   * @return the event id
   */
  Future<String> send(String roomId, String type, JsonObject content, String asUser, String txnId);

  /**
   * Invites {@code userId} to {@code roomId} as the bridge bot, sharing the room's history with the
   * invitee first (MSC4268), exactly as {@link MatrixE2ee#invite} does for a bot: the bot's device
   * builds the room key bundle from the inbound sessions it holds (in a portal it holds a copy of
   * every session of the room: the ghosts' and the Matrix users' devices share their room keys with
   * it), uploads it and sends {@code m.room_key_bundle} to the invitee's devices that their owner's
   * cross-signing identity signs, then sends the invite. Only sessions created while the room's
   * history was visible to new members ({@code shared} or {@code world_readable}) are shared; the
   * others are listed as withheld with {@code m.history_not_shared}. The switches of {@link
   * io.github.mxe2ee.plugin.history.HistoryOptions} apply. docs/HISTORY_SHARING.md, "Bridges".
   *
   * @return what was shared; fails as the invite fails (a failed sharing only shows in the result's
   *     {@code note}), or with {@link IllegalStateException} before start or after close
   */
  Future<io.github.mxe2ee.plugin.history.InviteResult> invite(String roomId, String userId);

  /**
   * The bridge bot's engine (its device), after {@link #start()}: for {@link
   * MatrixE2ee#isRoomEncrypted}, attachments, verification, metrics. Do not feed it {@code /sync}
   * bodies; do not close it (use {@link #close()}).
   *
   * @throws IllegalStateException before start
   */
  MatrixE2ee bot();

  /** The bridge bot's user id, after {@link #start()}; else null. */
  String botUserId();

  /** The bridge bot's device id, after {@link #start()}; else null. */
  String botDeviceId();

  /**
   * How many ghost machines are open now (at most {@link AppserviceOptions#getMaxOpenGhosts()}).
   */
  int openGhosts();

  /**
   * Stops the endpoint (servers made by {@link #listen}), closes every machine and the store.
   * Idempotent: later calls return the same future; calls made after it fail with {@link
   * IllegalStateException}, and transactions arriving meanwhile get 503.
   */
  Future<Void> close();
}
