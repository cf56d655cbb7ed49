package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Registers the Olm, Megolm and pickle operations of the interop protocol over mxe2ee's core and
 * maps core failures to protocol error kinds.
 *
 * <p>Placeholder until the core's {@code olm} and {@code megolm} packages land on main: it
 * registers nothing, so {@code info} reports no crypto operations and the interop suite skips the
 * mxe2ee pairs with a message naming what is missing.
 */
final class CryptoOperations {
  private CryptoOperations() {}

  static void register(PeerDriver driver) {}

  static ObjectNode errorReply(PeerDriver driver, JsonNode id, RuntimeException e) {
    return driver.internalError(id, e);
  }
}
