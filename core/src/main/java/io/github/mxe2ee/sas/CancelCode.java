package io.github.mxe2ee.sas;

import java.util.Optional;

/**
 * The {@code code} of an {@code m.key.verification.cancel} (spec: {@code end_to_end_encryption.md},
 * the {@code m.key.verification.cancel} event and "Verification messages specific to SAS"). Codes
 * the other side sends that are not listed here are kept as text in {@link CancelInfo}.
 */
public enum CancelCode {
  /** The user cancelled, or refused the request (also the policy's refusal). */
  USER("m.user", "The user cancelled the verification"),
  /** The verification did not complete in time. */
  TIMEOUT("m.timeout", "The verification timed out"),
  /** The device does not know the transaction id. */
  UNKNOWN_TRANSACTION("m.unknown_transaction", "Unknown transaction"),
  /** No common method, key agreement, hash, MAC or SAS method. */
  UNKNOWN_METHOD("m.unknown_method", "No supported method in common"),
  /** A message arrived out of order or was not expected. */
  UNEXPECTED_MESSAGE("m.unexpected_message", "Unexpected message"),
  /** A MAC did not match: the keys were not verified. */
  KEY_MISMATCH("m.key_mismatch", "The key was not verified"),
  /** The expected user did not match the user verified. */
  USER_MISMATCH("m.user_mismatch", "The expected user did not match"),
  /** A message was malformed. */
  INVALID_MESSAGE("m.invalid_message", "Invalid message"),
  /** Another device of the user accepted the request. */
  ACCEPTED("m.accepted", "The request was accepted by another device"),
  /** The hash commitment did not match the key. */
  MISMATCHED_COMMITMENT("m.mismatched_commitment", "The hash commitment did not match"),
  /** The user said the short authentication strings differ. */
  MISMATCHED_SAS("m.mismatched_sas", "The short authentication strings did not match");

  private final String wireName;
  private final String reason;

  CancelCode(String wireName, String reason) {
    this.wireName = wireName;
    this.reason = reason;
  }

  /** The code on the wire. */
  public String wireName() {
    return wireName;
  }

  /** The human-readable {@code reason} sent with the code. */
  public String reason() {
    return reason;
  }

  /** The code of a wire name, if it is one the spec defines. */
  public static Optional<CancelCode> fromWire(String name) {
    for (CancelCode c : values()) {
      if (c.wireName.equals(name)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
