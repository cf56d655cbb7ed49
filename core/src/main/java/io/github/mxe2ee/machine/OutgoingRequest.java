package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A request the machine wants sent to the homeserver (ARCHITECTURE.md, "core: a sans-I/O machine").
 * The caller sends {@link #body()} to the endpoint named by {@link #type()}, then feeds the
 * response back with {@code OlmMachine.markRequestAsSent(requestId, type, response)}. A request
 * stays in {@code outgoingRequests()} until its response is fed back, so a crash in between only
 * repeats it; every type is safe to repeat.
 *
 * <p>Immutable: the body is a private copy ({@link #body()} returns another), so callers may use it
 * freely. Equality is by value.
 */
public final class OutgoingRequest {
  private final String requestId;
  private final RequestType type;
  private final ObjectNode body;
  private final String eventType;
  private final String backupVersion;

  /** For account-data requests only: the owner and the event type; else null. */
  private final String accountDataUser;

  private final String accountDataType;

  /** For a one-session {@link RequestType#BACKUP_KEYS_GET} only (set by its factory); else null. */
  private String backupRoomId;

  private String backupSessionId;

  /**
   * @param requestId unique id, also the transaction id for {@link RequestType#TO_DEVICE}
   * @param type which endpoint
   * @param body the JSON body, exactly as the client-server API defines it (copied)
   * @param eventType for {@link RequestType#TO_DEVICE} only: the to-device event type; else null
   */
  public OutgoingRequest(String requestId, RequestType type, ObjectNode body, String eventType) {
    this(requestId, type, body.deepCopy(), eventType, null);
  }

  /** Takes {@code body} as it is. */
  private OutgoingRequest(
      String requestId, RequestType type, ObjectNode body, String eventType, String backupVersion) {
    this(requestId, type, body, eventType, backupVersion, null, null);
  }

  private OutgoingRequest(
      String requestId,
      RequestType type,
      ObjectNode body,
      String eventType,
      String backupVersion,
      String accountDataUser,
      String accountDataType) {
    this.accountDataUser = accountDataUser;
    this.accountDataType = accountDataType;
    boolean accountData =
        type == RequestType.ACCOUNT_DATA_GET || type == RequestType.ACCOUNT_DATA_PUT;
    if (accountData != (accountDataUser != null && accountDataType != null)) {
      throw new IllegalArgumentException(
          "user and account-data type are required for account-data requests only");
    }
    this.requestId = Objects.requireNonNull(requestId, "requestId");
    this.type = Objects.requireNonNull(type, "type");
    this.body = Objects.requireNonNull(body, "body");
    this.eventType = eventType;
    this.backupVersion = backupVersion;
    if ((type == RequestType.TO_DEVICE) != (eventType != null)) {
      throw new IllegalArgumentException("eventType is required for to-device requests only");
    }
    boolean versioned = type == RequestType.KEYS_BACKUP || type == RequestType.BACKUP_KEYS_GET;
    if (versioned != (backupVersion != null)) {
      throw new IllegalArgumentException("backupVersion is required for key backup requests only");
    }
  }

  /**
   * A {@link RequestType#BACKUP_KEYS_GET} request: {@code GET /room_keys/keys?version=} for every
   * key of the backup ({@code roomId} and {@code sessionId} null), or {@code GET
   * /room_keys/keys/{roomId}/{sessionId}?version=} for one session's.
   */
  public static OutgoingRequest backupKeysGet(
      String requestId, String backupVersion, String roomId, String sessionId) {
    if ((roomId == null) != (sessionId == null)) {
      throw new IllegalArgumentException("roomId and sessionId go together");
    }
    OutgoingRequest r =
        new OutgoingRequest(
            requestId,
            RequestType.BACKUP_KEYS_GET,
            Context.object(),
            null,
            Objects.requireNonNull(backupVersion, "backupVersion"));
    r.backupRoomId = roomId;
    r.backupSessionId = sessionId;
    return r;
  }

  /** For a one-session {@link RequestType#BACKUP_KEYS_GET}: the room id; else null. */
  public String backupRoomId() {
    return backupRoomId;
  }

  /** For a one-session {@link RequestType#BACKUP_KEYS_GET}: the session id; else null. */
  public String backupSessionId() {
    return backupSessionId;
  }

  /**
   * A {@link RequestType#KEYS_BACKUP} request: {@code body} ({@code {"rooms": ...}}, copied) goes
   * to {@code PUT /room_keys/keys?version=}{@code backupVersion}.
   */
  public static OutgoingRequest keysBackup(
      String requestId, String backupVersion, ObjectNode body) {
    return new OutgoingRequest(
        requestId,
        RequestType.KEYS_BACKUP,
        body.deepCopy(),
        null,
        Objects.requireNonNull(backupVersion, "backupVersion"));
  }

  /**
   * An account-data request ({@link RequestType#ACCOUNT_DATA_GET} with an empty body, or {@link
   * RequestType#ACCOUNT_DATA_PUT} with the event content as body, copied) for event type {@code
   * dataType} of {@code userId}.
   */
  public static OutgoingRequest accountData(
      String requestId, RequestType type, String userId, String dataType, ObjectNode body) {
    return new OutgoingRequest(
        requestId,
        type,
        body.deepCopy(),
        null,
        null,
        Objects.requireNonNull(userId, "userId"),
        Objects.requireNonNull(dataType, "dataType"));
  }

  /**
   * A request that takes ownership of {@code body} instead of copying it: for bodies the machine
   * built and no one else references (large to-device batches, where the copy was measurable).
   */
  static OutgoingRequest owning(
      String requestId, RequestType type, ObjectNode body, String eventType) {
    return new OutgoingRequest(requestId, type, body, eventType, null);
  }

  /** The request id; for to-device requests also the transaction id. */
  public String requestId() {
    return requestId;
  }

  /** Which endpoint. */
  public RequestType type() {
    return type;
  }

  /** A copy of the body. */
  public ObjectNode body() {
    return body.deepCopy();
  }

  /** The body as JSON text, without a copy (what is sent). */
  public String bodyJson() {
    return body.toString();
  }

  /** For {@link RequestType#TO_DEVICE}: the to-device event type; else null. */
  public String eventType() {
    return eventType;
  }

  /** The HTTP method and path (client-server API v3) for this request. */
  public String method() {
    return type.method();
  }

  /** For {@link RequestType#KEYS_BACKUP} only: the backup version written to; else null. */
  public String backupVersion() {
    return backupVersion;
  }

  /** For account-data requests only: the account-data event type; else null. */
  public String accountDataType() {
    return accountDataType;
  }

  /**
   * The path below the homeserver base URL, with the transaction id for to-device requests, the
   * {@code version} query parameter for key backup requests, and user id and event type for
   * account-data requests.
   */
  public String path() {
    if (accountDataType != null) {
      return type.path()
          + "/"
          + encode(accountDataUser)
          + "/account_data/"
          + encode(accountDataType);
    }
    if (type == RequestType.TO_DEVICE) {
      return type.path() + "/" + encode(eventType) + "/" + encode(requestId);
    }
    if (type == RequestType.BACKUP_KEYS_GET && backupRoomId != null) {
      return type.path()
          + "/"
          + encode(backupRoomId)
          + "/"
          + encode(backupSessionId)
          + "?version="
          + encode(backupVersion);
    }
    if (type == RequestType.KEYS_BACKUP || type == RequestType.BACKUP_KEYS_GET) {
      return type.path() + "?version=" + encode(backupVersion);
    }
    return type.path();
  }

  /** Percent-encodes everything but RFC 3986 unreserved characters, byte by byte in UTF-8. */
  static String encode(String segment) {
    StringBuilder out = new StringBuilder();
    for (byte b : segment.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OutgoingRequest r
        && requestId.equals(r.requestId)
        && type == r.type
        && body.equals(r.body)
        && Objects.equals(eventType, r.eventType)
        && Objects.equals(backupVersion, r.backupVersion)
        && Objects.equals(backupRoomId, r.backupRoomId)
        && Objects.equals(backupSessionId, r.backupSessionId)
        && Objects.equals(accountDataType, r.accountDataType);
  }

  @Override
  public int hashCode() {
    return Objects.hash(requestId, type, eventType);
  }

  @Override
  public String toString() {
    return "OutgoingRequest[" + type + " " + requestId + "]";
  }
}
