package io.github.mxe2ee.interop;

import java.util.Objects;

/**
 * A failure the peer driver reports as {@code {"error": {"kind", "message"}}}; see {@code
 * docs/interop-protocol.md}, section "Errors".
 *
 * <p>Used for protocol-level failures (malformed request, unknown handle, unsupported format);
 * failures of the crypto core arrive as {@code Mxe2eeException} and are mapped by {@link
 * ErrorKinds}. The message must never contain key material, pickles or plaintext.
 */
final class PeerException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String kind;

  PeerException(String kind, String message) {
    super(message, null, false, false);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** The protocol error kind, e.g. {@link ErrorKinds#BAD_REQUEST}. */
  String kind() {
    return kind;
  }
}
