package io.github.mxe2ee.store;

/**
 * The Olm account of the store's {@link AccountId}: identity keys, one-time keys and fallback keys,
 * all inside the encrypted pickle. See {@code shared/spec/matrix-spec/content/olm-megolm/olm.md}.
 *
 * <p>The machine persists a new account pickle holding freshly generated one-time keys BEFORE it
 * uploads them, and the pickle without a claimed key in the same save as the Olm session created
 * from it, so a crash never loses nor reuses a one-time key.
 *
 * @param pickle encrypted account pickle, non-null
 * @param sharedWithServer whether the device keys were uploaded to the homeserver
 */
public record AccountRecord(EncryptedPickle pickle, boolean sharedWithServer) {
  /** Validates non-null fields. */
  public AccountRecord {
    Require.nonNull(pickle, "pickle");
  }
}
