package io.github.mxe2ee.sas;

import java.util.Objects;
import java.util.Optional;

/**
 * Why a verification ended without success. Immutable.
 *
 * @param code the wire code ({@code m.user}, {@code m.mismatched_sas}, ...; the other side may send
 *     codes outside {@link CancelCode})
 * @param reason the human-readable reason (as sent or received; at most {@link #MAX_REASON_CHARS})
 * @param cancelledByUs true if this side cancelled
 */
public record CancelInfo(String code, String reason, boolean cancelledByUs) {
  /** A remote reason is shown to operators; it is cut to keep logs bounded. */
  public static final int MAX_REASON_CHARS = 200;

  /** Checks and bounds the fields. */
  public CancelInfo {
    Objects.requireNonNull(code, "code");
    reason = reason == null ? "" : reason;
    if (reason.length() > MAX_REASON_CHARS) {
      reason = reason.substring(0, MAX_REASON_CHARS);
    }
    if (code.length() > MAX_REASON_CHARS) {
      code = code.substring(0, MAX_REASON_CHARS);
    }
  }

  /** The code as a {@link CancelCode}, if it is one the spec defines. */
  public Optional<CancelCode> knownCode() {
    return CancelCode.fromWire(code);
  }
}
