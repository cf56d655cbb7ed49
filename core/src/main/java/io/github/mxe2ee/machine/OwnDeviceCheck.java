package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * Whether the homeserver's keys for our own device are ours (docs/SECURITY.md, "Operator safety"):
 * an account the server has not confirmed uploads its device keys only after a {@code /keys/query}
 * for our own user answered without other keys for our device id; any answer that lists other keys
 * for it (at first start, or later when someone replaced them) is a {@link
 * DeviceIdentityConflictException}, after which the machine sends nothing with this identity.
 *
 * <p>Lives on the {@link OlmMachine} itself, not in the parts rebuilt after a failed step, so a
 * failure cannot reset it. Package-private; machine thread only.
 */
final class OwnDeviceCheck {
  private final Context ctx;
  private boolean confirmed;
  private DeviceIdentityConflictException conflict;

  OwnDeviceCheck(Context ctx) {
    this.ctx = ctx;
  }

  /** Whether a query answer showed no other keys for our device, so our keys may be uploaded. */
  boolean confirmed() {
    return confirmed;
  }

  /** The conflict found, if any. */
  Optional<DeviceIdentityConflictException> conflict() {
    return Optional.ofNullable(conflict);
  }

  /**
   * @throws DeviceIdentityConflictException if a conflict was found
   */
  void ensureNoConflict() {
    if (conflict != null) {
      throw fresh(conflict);
    }
  }

  /**
   * Examines a {@code /keys/query} response to a request that asked about our own user. A failed or
   * missing answer for our user proves nothing; no entry for our device, or one with exactly our
   * Curve25519 and Ed25519 keys (a restored store, or an upload whose answer we lost), confirms;
   * anything else under our device id is a conflict.
   *
   * @throws DeviceIdentityConflictException for a conflict (also recorded)
   */
  void onOwnQueryResponse(JsonNode response, String ourCurve25519, String ourEd25519) {
    String user = ctx.userId();
    String server = user.substring(user.indexOf(':') + 1);
    if (response.path("failures").has(server)) {
      return;
    }
    JsonNode devices = response.path("device_keys").get(user);
    if (devices == null || !devices.isObject()) {
      return;
    }
    JsonNode entry = devices.get(ctx.deviceId());
    if (entry == null || entry.isNull()) {
      confirmed = true;
      return;
    }
    JsonNode keys = entry.path("keys");
    String ed = keys.path("ed25519:" + ctx.deviceId()).asText("");
    String curve = keys.path("curve25519:" + ctx.deviceId()).asText("");
    if (ed.equals(ourEd25519) && curve.equals(ourCurve25519)) {
      confirmed = true;
      return;
    }
    confirmed = false;
    conflict =
        new DeviceIdentityConflictException(
            user,
            ctx.deviceId(),
            ed.isEmpty() ? "(missing or malformed)" : shorten(ed),
            ourEd25519);
    throw fresh(conflict);
  }

  /** A server-chosen string in our message: bounded, printable. */
  private static String shorten(String s) {
    String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
    return t.replaceAll("[^A-Za-z0-9+/=_.-]", "?");
  }

  private static DeviceIdentityConflictException fresh(DeviceIdentityConflictException c) {
    return new DeviceIdentityConflictException(
        c.userId(), c.deviceId(), c.serverEd25519(), c.storeEd25519());
  }
}
