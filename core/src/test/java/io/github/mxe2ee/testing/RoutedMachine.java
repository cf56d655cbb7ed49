package io.github.mxe2ee.testing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.Mxe2eeException;
import java.util.Collection;
import java.util.List;

/**
 * One E2EE device under test, connected to an {@link InMemoryRouter}: the contract the shared
 * scenarios ({@link MachineScenarios}) drive, so that the same scenario runs Rust↔Rust today and
 * Java↔Rust, Rust↔Java and Java↔Java once mxe2ee's {@code OlmMachine} exists (issue 5, item 9).
 *
 * <p>Implemented by {@link RustMachinePeer} (Element's crypto in a Node process); a Java engine
 * plugs in by implementing this interface over its sans-I/O machine. JSON shapes are those of the
 * Rust peer protocol ({@code docs/interop-protocol.md}, "Rust OlmMachine peer"):
 *
 * <ul>
 *   <li>outgoing requests: {@code {request_id, type, body, event_type?, txn_id?}};
 *   <li>processed to-device events: {@code {kind: decrypted|plaintext|unable_to_decrypt|invalid,
 *       type, sender, sender_device?, sender_curve25519_key?, content}} with content reduced to
 *       non-secret fields;
 *   <li>decrypted room events: {@code {type, content, sender, sender_device, verification_state}};
 *   <li>device views: {@code {found, curve25519, ed25519, is_verified, is_cross_signed_by_owner,
 *       is_locally_trusted, is_blacklisted, ...}}.
 * </ul>
 *
 * <p>Decryption failures throw an {@link Mxe2eeException} whose {@code kind()} is one of the
 * protocol's classification words ({@code missing_session}, {@code unknown_index}, {@code
 * withheld}, {@code unable_to_decrypt}, ...), and whose {@link #withheldCode} gives the code.
 *
 * <p>Implementations are not thread-safe: one test thread drives each machine.
 */
public interface RoutedMachine extends AutoCloseable {
  /** The device owner's user id. */
  String userId();

  /** The device id. */
  String deviceId();

  /** The public identity keys {@code {curve25519, ed25519}}. */
  ObjectNode identityKeys();

  /** Sends every outgoing request through the router until none is left; returns those sent. */
  List<ObjectNode> pump(InMemoryRouter router);

  /** Feeds the router's next sync for this device into the machine; returns processed events. */
  List<ObjectNode> sync(InMemoryRouter router);

  /** Adds users to the tracked set (their device lists will be queried). */
  void updateTrackedUsers(Collection<String> users);

  /** Claims one-time keys for the devices of {@code users} that have no Olm session yet. */
  void establishSessions(InMemoryRouter router, Collection<String> users);

  /**
   * Shares the room's current outbound session with the devices of {@code users} allowed by {@code
   * settings} ({@code only_allow_trusted_devices}, {@code history_visibility}), sending withheld
   * notices to the others, all through the router.
   *
   * @return the to-device requests sent
   */
  List<ObjectNode> shareRoomKey(
      InMemoryRouter router, String roomId, Collection<String> users, ObjectNode settings);

  /**
   * Encrypts with the room's current outbound session; returns the {@code m.room.encrypted}
   * content.
   */
  ObjectNode encryptRoomEvent(String roomId, String type, ObjectNode content);

  /**
   * Decrypts a room event.
   *
   * @throws Mxe2eeException whose kind classifies the failure
   */
  ObjectNode decryptRoomEvent(String roomId, ObjectNode event);

  /** The withheld code carried by a decryption failure of this machine, or null. */
  String withheldCode(Mxe2eeException decryptionFailure);

  /** This machine's view of a device: keys and trust. */
  ObjectNode device(String userId, String deviceId);

  /** Sets the local trust of a device: {@code verified}, {@code blacklisted}, {@code unset}. */
  ObjectNode setLocalTrust(String userId, String deviceId, String trust);

  /** Creates and uploads a cross-signing identity for this device's user. */
  void bootstrapCrossSigning(InMemoryRouter router);

  /** Signs another device of our own user with our self-signing key and uploads the signature. */
  void verifyOwnDevice(InMemoryRouter router, String deviceId);

  /**
   * Asks our own other devices for the room key of an event we cannot decrypt.
   *
   * @return the {@code m.room_key_request} to-device requests sent
   */
  List<ObjectNode> requestRoomKey(InMemoryRouter router, String roomId, ObjectNode event);

  /** Ends the machine and releases its resources. */
  @Override
  void close();
}
