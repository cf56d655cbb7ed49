package io.github.mxe2ee.examples.bridge;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Validation of the Matrix user ids the remote side names (portal invites), by the Matrix
 * specification's grammar (appendices, "User Identifiers" and "Server Name"): {@code @localpart:
 * server_name}, at most 255 bytes; the localpart in the historical grammar (printable ASCII but
 * {@code :}), which every homeserver still accepts for existing users; the server name a DNS name,
 * an IPv4 address or a bracketed IPv6 address, with an optional port.
 */
public final class MatrixIds {

  private static final Pattern USER_ID =
      Pattern.compile(
          "@[\\x21-\\x39\\x3b-\\x7e]+:"
              + "(?:\\[[0-9A-Fa-f:.]{2,45}\\]|[0-9A-Za-z.-]{1,255})"
              + "(?::[0-9]{1,5})?");

  private MatrixIds() {}

  /** True when {@code s} is a syntactically valid user id. */
  public static boolean isUserId(String s) {
    return s != null
        && s.getBytes(StandardCharsets.UTF_8).length <= GhostNames.MAX_USER_ID_BYTES
        && USER_ID.matcher(s).matches();
  }

  /** The server name of a valid user id. */
  public static String serverName(String userId) {
    return userId.substring(userId.indexOf(':') + 1);
  }
}
