package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One operation of the interop protocol: turns the request's arguments into the reply's {@code
 * result} object, or throws ({@link PeerException} or the core's {@code Mxe2eeException}) to
 * produce an error reply.
 */
@FunctionalInterface
interface Operation {
  ObjectNode apply(Args args);
}
