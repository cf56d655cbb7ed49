package io.github.mxe2ee.plugin.media;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A validated {@code mxc://<server-name>/<media-id>} URI (Client-Server API, "Content repository",
 * "Matrix Content (mxc://) URIs"). Both parts are checked before they are ever put into a request
 * URL, so a hostile event cannot make the client request another path ({@code ../}), another host,
 * or a query:
 *
 * <ul>
 *   <li>the server name follows the grammar of the appendix "Server Name": a DNS name ({@code
 *       [A-Za-z0-9.-]}, at most {@value #MAX_HOST_LENGTH} characters), a dotted-quad IPv4 address
 *       or a bracketed IPv6 literal ({@code [0-9A-Fa-f:.]}), then an optional port of 1 to 5
 *       digits;
 *   <li>the media id is 1 to {@value #MAX_MEDIA_ID_LENGTH} characters of {@code [A-Za-z0-9_-]}, the
 *       character set the specification requires servers to use for media ids.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class MxcUri {
  /** The scheme prefix. */
  public static final String PREFIX = "mxc://";

  /** Longest DNS name of the server name grammar ({@code 1*255dns-char}). */
  public static final int MAX_HOST_LENGTH = 255;

  /**
   * Longest media id accepted: server-generated ids are short (Synapse: 24 letters); the bound only
   * keeps a hostile event from producing a huge URL.
   */
  public static final int MAX_MEDIA_ID_LENGTH = 255;

  private static final Pattern DNS_NAME = Pattern.compile("[A-Za-z0-9.-]{1,255}");
  private static final Pattern IPV6 = Pattern.compile("\\[[0-9A-Fa-f:.]{2,45}]");
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
  private static final Pattern MEDIA_ID = Pattern.compile("[A-Za-z0-9_-]{1,255}");

  private final String serverName;
  private final String mediaId;

  private MxcUri(String serverName, String mediaId) {
    this.serverName = serverName;
    this.mediaId = mediaId;
  }

  /**
   * Parses and validates an {@code mxc://} URI.
   *
   * @throws MediaException of reason {@link MediaException.Reason#INVALID_MXC} for anything else;
   *     the message quotes at most the first 64 characters of the input
   */
  public static MxcUri parse(String uri) {
    if (uri == null || !uri.startsWith(PREFIX)) {
      throw invalid(uri, "expected a URI starting with mxc://");
    }
    String rest = uri.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      throw invalid(uri, "expected mxc://<server-name>/<media-id>");
    }
    String server = rest.substring(0, slash);
    String media = rest.substring(slash + 1);
    if (!validServerName(server)) {
      throw invalid(uri, "the server name does not match the server name grammar");
    }
    if (!MEDIA_ID.matcher(media).matches()) {
      throw invalid(uri, "the media id must be 1 to 255 characters of [A-Za-z0-9_-]");
    }
    return new MxcUri(server, media);
  }

  private static boolean validServerName(String server) {
    String host = server;
    if (server.startsWith("[")) {
      int close = server.indexOf(']');
      if (close < 0) {
        return false;
      }
      host = server.substring(0, close + 1);
      if (!IPV6.matcher(host).matches()) {
        return false;
      }
    } else {
      int colon = server.indexOf(':');
      host = colon < 0 ? server : server.substring(0, colon);
      if (!DNS_NAME.matcher(host).matches()) {
        return false;
      }
    }
    String port = server.substring(host.length());
    return port.isEmpty() || (port.startsWith(":") && PORT.matcher(port.substring(1)).matches());
  }

  private static MediaException invalid(String uri, String why) {
    String shown =
        uri == null ? "null" : '"' + (uri.length() > 64 ? uri.substring(0, 64) + "..." : uri) + '"';
    return new MediaException(MediaException.Reason.INVALID_MXC, "mxc URI " + shown + ": " + why);
  }

  /** The server name (authority), such as {@code example.org:8448}. */
  public String serverName() {
    return serverName;
  }

  /** The media id. */
  public String mediaId() {
    return mediaId;
  }

  /**
   * The path below a download endpoint: {@code <server-name>/<media-id>}; both parts only hold
   * characters that need no percent-encoding in a path except the IPv6 brackets, which are encoded.
   */
  String downloadPath() {
    return serverName.replace("[", "%5B").replace("]", "%5D") + "/" + mediaId;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MxcUri m && m.serverName.equals(serverName) && m.mediaId.equals(mediaId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(serverName, mediaId);
  }

  /** The URI itself, {@code mxc://<server-name>/<media-id>}. */
  @Override
  public String toString() {
    return PREFIX + serverName + "/" + mediaId;
  }
}
