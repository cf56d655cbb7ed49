package io.github.mxe2ee.sas;

/**
 * Where a {@link SasVerification} stands (spec: {@code end_to_end_encryption.md}, "Key verification
 * framework" and "Short Authentication String (SAS) verification"). See {@code
 * docs/VERIFICATION.md} for the transitions.
 */
public enum SasState {
  /** We sent {@code m.key.verification.request}; waiting for {@code ready}. */
  REQUESTED,
  /** The other side requested; waiting for {@link SasVerification#accept()} or a cancel. */
  REQUEST_RECEIVED,
  /** Both sides agreed on {@code m.sas.v1}; waiting for a {@code start} from either side. */
  READY,
  /** We sent {@code m.key.verification.start}; waiting for {@code accept}. */
  STARTED,
  /** The other side sent a {@code start} without a request (deprecated); waiting for accept(). */
  START_RECEIVED,
  /** A start was accepted; the ephemeral keys are being exchanged. */
  ACCEPTED,
  /** Both ephemeral keys are known: the SAS can be shown; waiting for confirm() or a cancel. */
  KEYS_EXCHANGED,
  /** We confirmed and sent our MAC; waiting for the other side's MAC. */
  CONFIRMED,
  /** Both MACs are good and we sent {@code done}; waiting for the other side's {@code done}. */
  WAITING_FOR_DONE,
  /** Finished: the other side's keys in {@link SasVerification#verifiedKeys()} are verified. */
  DONE,
  /** Ended without success; see {@link SasVerification#cancelInfo()}. */
  CANCELLED;

  /** True for {@link #DONE} and {@link #CANCELLED}: nothing more happens. */
  public boolean isFinal() {
    return this == DONE || this == CANCELLED;
  }
}
