package io.github.mxe2ee.plugin.metrics;

import java.util.Locale;

/**
 * Names a Client-Server API request by its endpoint, never by its full path: room, user, event and
 * transaction ids would make one time series per room or per message. The names are a fixed set
 * (documented in {@code docs/METRICS.md}); any path not listed is {@link #OTHER}.
 */
public final class Endpoints {
  /** The name of every endpoint not in the list. */
  public static final String OTHER = "other";

  private Endpoints() {}

  /**
   * The endpoint name of {@code path} ({@code
   * /_matrix/client/v3/rooms/!r:hs/send/m.room.message/t1} is {@code room_send}).
   *
   * @param path the request path below the base URL; a query is ignored
   */
  public static String of(String path) {
    if (path == null) {
      return OTHER;
    }
    int q = path.indexOf('?');
    String p = q < 0 ? path : path.substring(0, q);
    String[] s = p.split("/", -1);
    // "", "_matrix", "client", "<version>", rest...
    if (s.length < 5 || !s[1].equals("_matrix")) {
      return OTHER;
    }
    if (s[2].equals("media")) {
      return s[4].equals("upload") ? "media_upload" : "media";
    }
    if (!s[2].equals("client")) {
      return OTHER;
    }
    String a = s[4];
    String b = s.length > 5 ? s[5] : "";
    return switch (a) {
      case "login" -> "login";
      case "sync" -> "sync";
      case "account" -> b.equals("whoami") ? "whoami" : OTHER;
      case "keys" ->
          switch (b) {
            case "upload" -> "keys_upload";
            case "query" -> "keys_query";
            case "claim" -> "keys_claim";
            case "signatures" -> "signature_upload";
            case "device_signing" -> "signing_keys_upload";
            default -> OTHER;
          };
      case "sendToDevice" -> "to_device";
      case "room_keys" -> "keys_backup";
      case "user" -> s.length > 6 && s[6].equals("account_data") ? "account_data" : OTHER;
      case "join" -> "join";
      case "createRoom" -> "create_room";
      case "rooms" -> room(s.length > 6 ? s[6] : "");
      default -> OTHER;
    };
  }

  private static String room(String what) {
    return switch (what) {
      case "send" -> "room_send";
      case "state" -> "room_state";
      case "joined_members" -> "joined_members";
      case "members" -> "members";
      case "join" -> "join";
      case "invite" -> "invite";
      case "leave" -> "leave";
      default -> OTHER;
    };
  }

  /** The outcome tag of an HTTP status: {@code success}, {@code client_error}, ... */
  public static String outcome(int status) {
    if (status == 0) {
      return "transport_error";
    }
    return switch (status / 100) {
      case 2 -> "success";
      case 4 -> status == 429 ? "rate_limited" : "client_error";
      case 5 -> "server_error";
      default -> "other";
    };
  }

  /** The method as a tag value (upper case). */
  static String method(String method) {
    return method == null ? "UNKNOWN" : method.toUpperCase(Locale.ROOT);
  }
}
