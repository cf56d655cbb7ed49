/**
 * Headless to-device SAS verification (spec: {@code end_to_end_encryption.md}, "Key verification
 * framework" and "Short Authentication String (SAS) verification"): {@link
 * io.github.mxe2ee.sas.SasVerification} is one flow's state machine, {@link
 * io.github.mxe2ee.sas.Verifications} the bounded registry a machine routes events to. Sans-I/O:
 * contents go in, {@link io.github.mxe2ee.sas.VerificationMessage}s come out; time and randomness
 * are injected through {@link io.github.mxe2ee.sas.SasContext}. No Vert.x, no network, no store.
 * See {@code docs/VERIFICATION.md}.
 */
package io.github.mxe2ee.sas;
