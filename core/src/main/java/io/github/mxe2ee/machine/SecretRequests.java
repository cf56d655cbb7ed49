package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.backup.BackupDecryptionKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import io.github.mxe2ee.device.DeviceKeys;
import io.github.mxe2ee.device.KeyUsage;
import io.github.mxe2ee.store.Changes;
import java.util.List;
import java.util.Optional;

/**
 * Answers {@code m.secret.request} (spec: {@code secrets.md}, "Sharing"), with the same policy as
 * room key requests ({@link KeyRequests}): a secret is sent, as {@code m.secret.send} over Olm,
 * only to another device of our own user that is verified (cross-signed by our trusted identity or
 * verified locally), only for a secret this store holds, and within the same per-device, per-user
 * and overall reply budget as room keys. Every other request is ignored, as the spec says a device
 * that will not share does nothing: other users, unknown, unverified or blacklisted devices,
 * secrets we do not hold or do not know, cancellations, and devices we have no Olm session with
 * (the requester, like Element, retries after it has one). Ids over {@link
 * MachineLimits#MAX_ID_LENGTH} are dropped, never echoed.
 *
 * <p>Secrets held: the three cross-signing private keys ({@code m.cross_signing.master}, {@code
 * .self_signing}, {@code .user_signing}, unpadded base64 of the seed) and the key backup's private
 * key ({@code m.megolm_backup.v1}, unpadded base64).
 */
final class SecretRequests {
  private final Context ctx;
  private final DeviceTracker devices;
  private final OlmSessions olm;
  private final CrossSigning crossSigning;
  private final KeyBackups backups;
  private final KeyRequests budget;

  SecretRequests(
      Context ctx,
      DeviceTracker devices,
      OlmSessions olm,
      CrossSigning crossSigning,
      KeyBackups backups,
      KeyRequests budget) {
    this.ctx = ctx;
    this.devices = devices;
    this.olm = olm;
    this.crossSigning = crossSigning;
    this.backups = backups;
    this.budget = budget;
  }

  /** Handles one plaintext {@code m.secret.request}; an answer goes into {@code out}. */
  void onRequest(ObjectNode event, Changes changes, List<OutgoingRequest> out) {
    JsonNode content = event.path("content");
    String sender = event.path("sender").asText("");
    String deviceId = content.path("requesting_device_id").asText(null);
    String requestId = content.path("request_id").asText(null);
    String name = content.path("name").asText(null);
    if (deviceId == null || requestId == null) {
      return;
    }
    if (!MachineLimits.saneId(deviceId) || !MachineLimits.saneId(requestId)) {
      ctx.counters.malformedIdsDropped++;
      return;
    }
    if (!"request".equals(content.path("action").asText())
        || (sender.equals(ctx.userId()) && deviceId.equals(ctx.deviceId()))) {
      return; // cancellations need nothing: an answer is sent at once or never
    }
    if (!sender.equals(ctx.userId()) || name == null) {
      ctx.counters.secretRequestsRefused++;
      return;
    }
    DeviceKeys device = devices.devices(sender).get(deviceId);
    if (device == null
        || !devices.trust(sender, device, crossSigning.holdsMasterKey()).isVerified()) {
      ctx.counters.secretRequestsRefused++;
      return;
    }
    Optional<byte[]> secret = secret(name);
    if (secret.isEmpty() || !olm.hasSession(device.curve25519().toBase64())) {
      ctx.counters.secretRequestsRefused++;
      return;
    }
    if (!budget.allowReply(sender, deviceId)) {
      return;
    }
    byte[] raw = secret.get();
    ObjectNode send = Context.object();
    try {
      send.put("request_id", requestId);
      send.put("secret", UnpaddedBase64.encode(raw));
    } finally {
      java.util.Arrays.fill(raw, (byte) 0);
    }
    ObjectNode encrypted = olm.encrypt(device, "m.secret.send", send, changes);
    ToDeviceBatcher batch = new ToDeviceBatcher(ctx, "m.room.encrypted");
    batch.add(sender, deviceId, encrypted);
    out.addAll(batch.build());
    ctx.counters.secretsShared++;
  }

  /** The raw bytes of secret {@code name} if we hold it (the caller wipes them). */
  private Optional<byte[]> secret(String name) {
    if (name.equals(BackupSetup.SECRET_NAME)) {
      return backups.decryptionKey().map(BackupDecryptionKey::exposeSecretBytes);
    }
    if (!crossSigning.holdsMasterKey()) {
      return Optional.empty(); // keys of an identity the server no longer publishes: not shared
    }
    for (var e : IdentitySetup.SECRET_NAMES.entrySet()) {
      if (e.getValue().equals(name)) {
        KeyUsage usage = e.getKey();
        return Optional.of(crossSigning.privateKey(usage).exposeSecretBytes());
      }
    }
    return Optional.empty();
  }
}
