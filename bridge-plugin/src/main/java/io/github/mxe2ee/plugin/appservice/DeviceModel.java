package io.github.mxe2ee.plugin.appservice;

/** Which device encrypts a ghost user's messages (docs/BRIDGES.md, "The two device models"). */
public enum DeviceModel {
  /**
   * Every ghost that sends into an encrypted room gets a device of its own, created by the
   * appservice with MSC4190 ({@code PUT /_matrix/client/v3/devices/{deviceId}?user_id=…}), its own
   * Olm account and its own cross-signing identity (master key signs the self-signing key, which
   * signs the device), and sends with MSC4326 masquerading ({@code ?user_id=…&device_id=…}).
   * Element shows such a message as sent by a device its owner verified. Needs a homeserver with
   * MSC4190 and MSC4326 (Synapse with {@code io.element.msc4190: true} in the registration).
   */
  GHOST_DEVICES,

  /**
   * mautrix's model, for homeservers without MSC4190: one device (the bridge bot's) encrypts every
   * ghost's messages, which are sent with {@code ?user_id=} masquerading. Element marks them with a
   * warning ("encrypted by a device not verified by its owner"); clients that exclude insecure
   * devices (MSC4153) will not show them.
   */
  BOT_DEVICE
}
