package io.github.mxe2ee.interop;

import java.util.Map;

/**
 * The error kinds of the interop protocol ({@code docs/interop-protocol.md}, section "Errors") and
 * the mapping from the kinds the crypto core reports through {@code Mxe2eeException.kind()}.
 *
 * <p>Stateless and thread-safe.
 */
final class ErrorKinds {
  static final String BAD_REQUEST = "bad_request";
  static final String UNKNOWN_OP = "unknown_op";
  static final String UNKNOWN_HANDLE = "unknown_handle";
  static final String UNSUPPORTED = "unsupported";
  static final String DECODE = "decode";
  static final String CRYPTO = "crypto";
  static final String UNKNOWN_INDEX = "unknown_index";
  static final String MISSING_MESSAGE_KEY = "missing_message_key";
  static final String TOO_BIG_GAP = "too_big_gap";
  static final String MISSING_ONE_TIME_KEY = "missing_one_time_key";
  static final String INTERNAL = "internal";

  /**
   * Core kinds whose protocol name differs. Core kinds already equal to a protocol kind ({@code
   * decode}, {@code crypto}) pass through unchanged; unknown core kinds pass through too, so a new
   * core kind shows up in the suite's failure messages rather than hidden behind {@code internal}.
   * Finer classifications (Olm decryption reasons) are done by the operations' {@link ErrorMapper}s
   * before this table is consulted.
   */
  private static final Map<String, String> CORE_ALIASES =
      Map.of("unknown_message_index", UNKNOWN_INDEX);

  private ErrorKinds() {}

  /** The protocol kind for a core exception kind; never null. */
  static String fromCore(String coreKind) {
    if (coreKind == null || coreKind.isEmpty()) {
      return INTERNAL;
    }
    return CORE_ALIASES.getOrDefault(coreKind, coreKind);
  }
}
