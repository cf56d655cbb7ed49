package io.github.mxe2ee.machine;

/**
 * The {@code m.room_key.withheld} codes (spec: {@code end_to_end_encryption.md}, "Reporting that
 * decryption keys are withheld"; MSC2399; MSC4268 adds {@code m.history_not_shared}) and the
 * human-readable reasons sent with them.
 */
final class WithheldCodes {
  static final String BLACKLISTED = "m.blacklisted";
  static final String UNVERIFIED = "m.unverified";
  static final String UNAUTHORISED = "m.unauthorised";
  static final String UNAVAILABLE = "m.unavailable";
  static final String NO_OLM = "m.no_olm";
  static final String HISTORY_NOT_SHARED = "m.history_not_shared";

  private WithheldCodes() {}

  static String reason(String code) {
    return switch (code) {
      case BLACKLISTED -> "The sender has blocked you.";
      case UNVERIFIED -> "The sender has disabled encrypting to unverified devices.";
      case UNAUTHORISED -> "You are not authorised to read the message.";
      case UNAVAILABLE -> "The requested key was not found.";
      case NO_OLM -> "Unable to establish a secure channel.";
      case HISTORY_NOT_SHARED -> "The sender disabled sharing encrypted history.";
      default -> "The key was withheld.";
    };
  }
}
