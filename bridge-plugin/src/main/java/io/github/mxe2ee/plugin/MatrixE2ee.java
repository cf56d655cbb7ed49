package io.github.mxe2ee.plugin;

import io.github.mxe2ee.plugin.impl.MatrixE2eeImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

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
   * Opens the store and the machine, uploads keys. Fails if the client is not logged in; with a
   * {@link io.github.mxe2ee.store.StoreException} of reason {@code LOCKED} if another process (or
   * instance) serves this device's store; and with a {@link
   * io.github.mxe2ee.machine.DeviceIdentityConflictException} if the server already holds other
   * keys for this device id than the store (the store was lost or replaced): nothing is uploaded
   * then; log in with a new device id, or restore the store and its pickle key.
   */
  Future<Void> start();

  /**
   * Feeds the E2EE parts of a {@code /sync} body to the machine, follows room state (encryption,
   * history visibility, departures) and decrypts timeline events.
   *
   * @return a copy of {@code sync} with encrypted timeline events decrypted
   */
  Future<JsonObject> onSync(JsonObject sync);

  /**
   * Encrypts an event for a room: tracks its members, queries their devices, establishes Olm
   * sessions and shares the room key as needed, then encrypts.
   *
   * @return the {@code m.room.encrypted} content
   */
  Future<JsonObject> encrypt(String roomId, String type, JsonObject content);

  /**
   * Encrypts and sends an event.
   *
   * @return the event id
   */
  Future<String> send(String roomId, String type, JsonObject content);

  /** Our device's Ed25519 fingerprint (unpadded base64), after {@link #start()}. */
  String fingerprint();

  /** Closes the machine and the store. */
  Future<Void> close();
}
