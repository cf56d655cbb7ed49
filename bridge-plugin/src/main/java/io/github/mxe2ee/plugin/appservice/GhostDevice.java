package io.github.mxe2ee.plugin.appservice;

/**
 * A ghost user's device as {@link AppserviceE2ee#ensureGhost} made it ready.
 *
 * @param userId the ghost's Matrix user id
 * @param deviceId its device id ({@link DeviceModel#GHOST_DEVICES}), or the bridge bot's device id
 *     ({@link DeviceModel#BOT_DEVICE}), which encrypts for it
 * @param ed25519 that device's Ed25519 fingerprint, unpadded base64
 * @param masterKey the ghost's cross-signing master key, unpadded base64, or null in {@link
 *     DeviceModel#BOT_DEVICE} (the ghost has no identity of its own)
 */
public record GhostDevice(String userId, String deviceId, String ed25519, String masterKey) {}
