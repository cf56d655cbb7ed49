package io.github.mxe2ee.machine;

/**
 * Which {@code m.room_key_request}s the machine answers with {@code m.forwarded_room_key} (spec:
 * {@code end_to_end_encryption.md}, "Key requests"). Requests from other users are never answered
 * (they get {@code m.room_key.withheld} {@code m.unauthorised} if their device is known); the
 * policy only decides about our own devices.
 */
public enum KeyRequestPolicy {
  /**
   * The default: our own devices that are verified (cross-signed by our self-signing key, or
   * verified locally) get the keys; unverified ones get {@code m.unverified}, blacklisted ones
   * {@code m.blacklisted}.
   */
  OWN_VERIFIED_DEVICES,
  /**
   * Nobody gets a key by request, not even our own verified devices (they get {@code
   * m.unauthorised}); for bots whose keys must only ever leave through backup or export.
   */
  NONE
}
