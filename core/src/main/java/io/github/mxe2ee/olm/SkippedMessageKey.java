package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;

/**
 * A message key kept for an out-of-order message.
 *
 * @param ratchetKey the remote ratchet key of the chain the key belongs to
 * @param messageKey the key and its chain index
 */
record SkippedMessageKey(Curve25519PublicKey ratchetKey, MessageKey messageKey) {}
