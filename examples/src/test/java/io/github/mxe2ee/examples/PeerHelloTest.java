package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mxe2ee.examples.testing.PeerProcess;
import io.vertx.core.json.JsonObject;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/**
 * Starts each interop peer and checks it answers with the versions of the real libraries it loaded;
 * the pinned versions are those of {@code interop/node/package-lock.json} and {@code
 * interop/python/requirements.txt}.
 */
class PeerHelloTest {

  @Test
  void nodePeerLoadsCryptoWasmJsSdkAndLibolm() {
    try (PeerProcess peer = PeerProcess.node("hello.mjs")) {
      JsonObject r = result(peer.request("version", new JsonObject()));
      assertEquals("node", r.getString("runtime"));
      assertEquals("18.9.0", r.getString("matrix-sdk-crypto-wasm"));
      assertEquals("43.0.0", r.getString("matrix-js-sdk"));
      assertEquals(Boolean.TRUE, r.getBoolean("matrix-js-sdk-loaded"));
      assertEquals("3.2.28", r.getString("towns-protocol-olm"));
      assertEquals("3.2.16", r.getString("libolm"));
      assertTrue(r.getString("vodozemac").matches("\\d+\\.\\d+\\.\\d+"), r.encode());
      assertTrue(r.getString("matrix_sdk_crypto").matches("\\d+\\.\\d+\\.\\d+"), r.encode());
      assertCurve25519(r.getString("olmMachineCurve25519"));
      assertCurve25519(r.getString("olmAccountCurve25519"));
      assertNotEquals(r.getString("olmMachineCurve25519"), r.getString("olmAccountCurve25519"));
      assertUnknownOpIsAnError(peer);
    }
  }

  @Test
  void pythonPeerLoadsVodozemacAndLibolm() {
    try (PeerProcess peer = PeerProcess.python("hello.py")) {
      JsonObject r = result(peer.request("version", new JsonObject()));
      assertEquals("python", r.getString("runtime"));
      assertEquals("0.10.0", r.getString("vodozemac"));
      assertEquals("3.2.16", r.getString("python-olm"));
      assertEquals("3.2.16", r.getString("libolm"));
      assertCurve25519(r.getString("vodozemacCurve25519"));
      assertCurve25519(r.getString("olmAccountCurve25519"));
      assertUnknownOpIsAnError(peer);
    }
  }

  private static JsonObject result(JsonObject reply) {
    assertTrue(reply.containsKey("result"), reply.encode());
    return reply.getJsonObject("result");
  }

  private static void assertUnknownOpIsAnError(PeerProcess peer) {
    JsonObject reply = peer.request("no_such_op", new JsonObject());
    assertEquals("unknown_op", reply.getJsonObject("error").getString("kind"), reply.encode());
  }

  /** A real key: unpadded base64 of 32 bytes. */
  private static void assertCurve25519(String b64) {
    assertEquals(43, b64.length(), b64);
    assertEquals(32, Base64.getDecoder().decode(b64 + "=").length);
  }
}
