package io.github.mxe2ee.machine;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link OlmMachine#shareRoomKeyBundle} did: the to-device requests carrying the Olm-encrypted
 * {@code m.room_key_bundle} (MSC4268), and which of the invitee's devices got it.
 *
 * @param requests to-device requests ({@link RequestType#TO_DEVICE}, event type {@code
 *     m.room.encrypted}) to send; feed each response back with {@link
 *     OlmMachine#markRequestAsSent}. Empty if no device qualified.
 * @param devices the invitee's device ids the bundle was encrypted for
 * @param skipped the invitee's other device ids, each with why: {@code m.unverified} (not signed by
 *     its owner's cross-signing identity, or not allowed by the sharing strategy), {@code
 *     m.blacklisted}, or {@code m.no_olm} (no Olm session: claim one with {@link
 *     OlmMachine#getMissingSessions} first)
 */
public record RoomKeyBundleShare(
    List<OutgoingRequest> requests, List<String> devices, Map<String, String> skipped) {
  /** Copies the collections. */
  public RoomKeyBundleShare {
    requests = List.copyOf(Objects.requireNonNull(requests, "requests"));
    devices = List.copyOf(Objects.requireNonNull(devices, "devices"));
    skipped = Map.copyOf(Objects.requireNonNull(skipped, "skipped"));
  }
}
