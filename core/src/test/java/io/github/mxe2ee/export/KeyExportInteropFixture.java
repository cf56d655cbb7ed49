package io.github.mxe2ee.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the Java half of {@code src/test/resources/export/rust_sdk_interop.json}: two real Megolm
 * sessions with messages, their export payload, and a key export file written by mxe2ee. The script
 * {@code src/test/resources/export/rust_sdk_interop.mjs} then has matrix-rust-sdk (through
 * {@code @matrix-org/matrix-sdk-crypto-wasm}) decrypt and import that file and encrypt the payload
 * into a file of its own, and merges its results in. Not a test; run once by hand. The committed
 * fixture is never regenerated.
 */
final class KeyExportInteropFixture {
  static final String PASSPHRASE = "interop pässphrase";
  static final int ROUNDS = 1_000;

  private KeyExportInteropFixture() {}

  public static void main(String[] args) throws IOException {
    SecureRandom random = new SecureRandom();
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("passphrase", PASSPHRASE);
    out.put("rounds", ROUNDS);
    ArrayNode messages = out.putArray("messages");
    List<ExportedRoomKey> keys = new ArrayList<>();
    for (int s = 0; s < 2; s++) {
      OutboundGroupSession outbound = OutboundGroupSession.create(random);
      for (int i = 0; i < s; i++) {
        outbound.encrypt("not exported " + i);
      }
      InboundGroupSession twin = InboundGroupSession.fromSessionKey(outbound.sessionKey());
      for (int i = 0; i < 3; i++) {
        String plaintext = "{\"body\":\"session " + s + " message " + i + "\"}";
        ObjectNode m = messages.addObject();
        m.put("session_id", outbound.sessionId());
        m.put("ciphertext", outbound.encrypt(plaintext).toBase64());
        m.put("plaintext", plaintext);
      }
      keys.add(
          ExportedRoomKey.fromSession(
              twin,
              "!interop" + s + ":localhost",
              Curve25519SecretKey.generate(random).publicKey(),
              Ed25519SecretKey.generate(random).publicKey(),
              s == 0
                  ? List.of()
                  : List.of(Curve25519SecretKey.generate(random).publicKey().toBase64()),
              s == 1));
    }
    out.put("payload_json", new String(ExportedRoomKey.toJsonArray(keys), StandardCharsets.UTF_8));
    out.put(
        "mxe2ee_armored",
        KeyExportFile.exportRoomKeys(keys, PASSPHRASE.toCharArray(), ROUNDS, random));
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(new File(args[0]), out);
  }
}
