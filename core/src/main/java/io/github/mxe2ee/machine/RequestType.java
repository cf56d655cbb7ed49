package io.github.mxe2ee.machine;

/**
 * The homeserver endpoints the machine asks for (client-server API, {@code
 * data/api/client-server/keys.yaml}, {@code cross_signing.yaml}, {@code to_device.yaml}).
 */
public enum RequestType {
  /** {@code POST /_matrix/client/v3/keys/upload}: device keys, one-time and fallback keys. */
  KEYS_UPLOAD("POST", "/_matrix/client/v3/keys/upload"),
  /** {@code POST /_matrix/client/v3/keys/query}: devices and cross-signing keys of users. */
  KEYS_QUERY("POST", "/_matrix/client/v3/keys/query"),
  /** {@code POST /_matrix/client/v3/keys/claim}: one-time keys to start Olm sessions. */
  KEYS_CLAIM("POST", "/_matrix/client/v3/keys/claim"),
  /** {@code PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId}}. */
  TO_DEVICE("PUT", "/_matrix/client/v3/sendToDevice"),
  /** {@code POST /_matrix/client/v3/keys/signatures/upload}. */
  SIGNATURE_UPLOAD("POST", "/_matrix/client/v3/keys/signatures/upload"),
  /**
   * {@code POST /_matrix/client/v3/keys/device_signing/upload}: cross-signing keys. The server may
   * answer 401 with user-interactive auth; the caller completes it (see the plugin docs).
   */
  SIGNING_KEYS_UPLOAD("POST", "/_matrix/client/v3/keys/device_signing/upload"),
  /**
   * {@code PUT /_matrix/client/v3/room_keys/keys?version=...}: room keys for the server-side key
   * backup ({@code data/api/client-server/key_backup.yaml}); the version is in the request's path.
   */
  KEYS_BACKUP("PUT", "/_matrix/client/v3/room_keys/keys"),
  /**
   * {@code GET /_matrix/client/v3/user/{userId}/account_data/{type}}: one account-data event of our
   * user (secret storage, spec {@code secrets.md}); a 404 {@code M_NOT_FOUND} means it is absent
   * and is fed back with {@code markRequestAsFailed}. The full path is {@link
   * OutgoingRequest#path()}.
   */
  ACCOUNT_DATA_GET("GET", "/_matrix/client/v3/user"),
  /** {@code PUT /_matrix/client/v3/user/{userId}/account_data/{type}}: writes one event. */
  ACCOUNT_DATA_PUT("PUT", "/_matrix/client/v3/user"),
  /**
   * {@code GET /_matrix/client/v3/room_keys/version}: the current key backup version ({@code
   * key_backup.yaml}); a 404 {@code M_NOT_FOUND} means there is none and is fed back with {@code
   * markRequestAsFailed}.
   */
  BACKUP_VERSION_GET("GET", "/_matrix/client/v3/room_keys/version"),
  /**
   * {@code POST /_matrix/client/v3/room_keys/version}: creates a backup version; the answer is
   * {@code {"version": ...}}.
   */
  BACKUP_VERSION_CREATE("POST", "/_matrix/client/v3/room_keys/version"),
  /**
   * {@code GET /_matrix/client/v3/room_keys/keys[/{roomId}/{sessionId}]?version=...}: room keys
   * from the backup, all of them or one session's ({@link OutgoingRequest#path()} has the full
   * path); a 404 means the backup has no such key.
   */
  BACKUP_KEYS_GET("GET", "/_matrix/client/v3/room_keys/keys");

  private final String method;
  private final String path;

  RequestType(String method, String path) {
    this.method = method;
    this.path = path;
  }

  /** The HTTP method. */
  public String method() {
    return method;
  }

  /** The path below the homeserver base URL (to-device requests add event type and txn id). */
  public String path() {
    return path;
  }
}
