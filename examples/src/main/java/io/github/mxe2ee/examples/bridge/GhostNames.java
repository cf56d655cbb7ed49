package io.github.mxe2ee.examples.bridge;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Maps remote user names to the user ids of their ghosts, inside the appservice's exclusive user
 * namespace, so that no remote name can name a Matrix user outside it (or the bridge bot).
 *
 * <p>The localpart is {@code prefix + escape(name)}, with the escaping the Matrix specification
 * suggests for mapping other character sets to user ids (appendices, "Mapping from other character
 * sets"): the name's UTF-8 bytes {@code a-z 0-9 - .} are kept, an upper-case letter {@code X}
 * becomes {@code _x}, {@code _} becomes {@code __}, and every other byte {@code =xx} (two
 * lower-case hex digits). The mapping is injective (two names never share a ghost) and its output
 * uses only the characters the current user id grammar allows. The prefix ({@link #DEFAULT_PREFIX})
 * keeps ghosts apart from the bridge bot ({@code bridge_bot}) and from any other user of the
 * namespace.
 *
 * <p>Immutable and thread-safe.
 */
public final class GhostNames {

  /**
   * Localpart prefix of every ghost: inside the dev registration's {@code @bridge_.*} namespace.
   */
  public static final String DEFAULT_PREFIX = "bridge_remote_";

  /**
   * Longest remote user name accepted, in code points: a name of 64 characters outside ASCII
   * escapes to at most 64 * 4 * 3 bytes, which the 255-byte user id bound then refuses; 64 is
   * plenty for a chat nickname.
   */
  public static final int MAX_NAME_CODE_POINTS = 64;

  /**
   * The Matrix specification's bound on a user id, in bytes of UTF-8 (appendices, "User
   * Identifiers").
   */
  public static final int MAX_USER_ID_BYTES = 255;

  private final String prefix;
  private final String serverName;
  private final Pattern namespace;

  /**
   * @param prefix localpart prefix of the ghosts
   * @param serverName the homeserver's server name
   * @param namespace the registration's exclusive user regex; every ghost id must match it
   * @throws IllegalArgumentException when {@code prefix + "x"} is not in the namespace
   */
  public GhostNames(String prefix, String serverName, Pattern namespace) {
    this.prefix = Objects.requireNonNull(prefix, "prefix");
    this.serverName = Objects.requireNonNull(serverName, "serverName");
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    if (!namespace.matcher("@" + prefix + "x:" + serverName).matches()) {
      throw new IllegalArgumentException(
          "ghost prefix '" + prefix + "' is outside the appservice namespace " + namespace);
    }
  }

  /**
   * The ghost of a remote user.
   *
   * @throws IllegalArgumentException (message safe to show the caller) when the name is empty,
   *     longer than {@link #MAX_NAME_CODE_POINTS}, contains control characters, or its ghost id
   *     would exceed {@link #MAX_USER_ID_BYTES}
   */
  public String ghostUserId(String remoteName) {
    checkName(remoteName);
    StringBuilder local = new StringBuilder(prefix);
    for (byte b : remoteName.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') {
        local.append((char) c);
      } else if (c >= 'A' && c <= 'Z') {
        local.append('_').append((char) (c + ('a' - 'A')));
      } else if (c == '_') {
        local.append("__");
      } else {
        local
            .append('=')
            .append(Character.forDigit(c >> 4, 16))
            .append(Character.forDigit(c & 15, 16));
      }
    }
    String userId = "@" + local + ":" + serverName;
    if (userId.getBytes(StandardCharsets.UTF_8).length > MAX_USER_ID_BYTES) {
      throw new IllegalArgumentException(
          "'from': the remote user name is too long for a Matrix user id (at most "
              + MAX_USER_ID_BYTES
              + " bytes once escaped)");
    }
    if (!namespace.matcher(userId).matches()) {
      // Cannot happen with a prefix checked in the constructor and this alphabet; refuse anyway.
      throw new IllegalArgumentException("'from': the ghost id is outside the bridge's namespace");
    }
    return userId;
  }

  /** The ghost's localpart (the user id without {@code @} and {@code :server}). */
  public String localpart(String ghostUserId) {
    return ghostUserId.substring(1, ghostUserId.lastIndexOf(':'));
  }

  /** True when {@code userId} belongs to the bridge (a ghost or the bot): never a Matrix user. */
  public boolean isBridgeUser(String userId) {
    return namespace.matcher(userId).matches();
  }

  private static void checkName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("'from': expected a non-empty remote user name");
    }
    if (name.codePointCount(0, name.length()) > MAX_NAME_CODE_POINTS) {
      throw new IllegalArgumentException("'from': at most " + MAX_NAME_CODE_POINTS + " characters");
    }
    if (name.codePoints()
        .anyMatch(cp -> Character.isISOControl(cp) || (cp >= 0xD800 && cp <= 0xDFFF))) {
      throw new IllegalArgumentException(
          "'from': control characters and lone surrogates are not allowed");
    }
  }
}
