package io.github.mxe2ee.device;

/** A decision the local operator (or a verification) made about one device. Persisted. */
public enum LocalTrust {
  /** No decision: trust comes from cross-signing only. */
  UNSET,
  /** Verified on this device (by fingerprint or interactive verification). */
  VERIFIED,
  /** Never share keys with this device and refuse its requests. */
  BLACKLISTED
}
