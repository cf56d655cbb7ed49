package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.Curve25519PublicKey;

/**
 * A chain we receive on: the sender's ratchet key T_i and our copy of their chain key.
 *
 * @param ratchetKey the remote ratchet key that identifies the chain
 * @param chainKey the next unused chain key of this chain
 */
record ReceiverChain(Curve25519PublicKey ratchetKey, ChainKey chainKey) {}
