package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import java.nio.charset.StandardCharsets;

/** Operations over mxe2ee's crypto primitives alone: {@code util.verify_ed25519}. */
final class UtilOperations {
  private UtilOperations() {}

  static void register(PeerDriver driver) {
    driver.register("util.verify_ed25519", UtilOperations::verifyEd25519);
  }

  private static ObjectNode verifyEd25519(Args args) {
    Ed25519PublicKey key = Ed25519PublicKey.fromBase64(args.string("key"));
    Ed25519Signature signature = Ed25519Signature.fromBase64(args.string("signature"));
    byte[] message = args.string("message").getBytes(StandardCharsets.UTF_8);
    ObjectNode result = PeerDriver.object();
    result.put("valid", key.verify(message, signature));
    return result;
  }
}
