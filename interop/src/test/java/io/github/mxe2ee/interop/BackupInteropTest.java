package io.github.mxe2ee.interop;

import static io.github.mxe2ee.interop.Json.args;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.interop.Peers.Kind;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Key backup {@code session_data} ({@code m.megolm_backup.v1.curve25519-aes-sha2}) between every
 * ordered pair of implementations: the first encrypts for a backup key created on the second, which
 * decrypts. libolm runs its {@code PkEncryption}/{@code PkDecryption}, vodozemac its
 * libolm-compatible port. A flipped MAC bit must fail with {@code crypto} on the receiver.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BackupInteropTest {
  static final List<String> BACKUP_OPS =
      List.of("backup.create_decryption", "backup.encrypt", "backup.decrypt");

  @ParameterizedTest(name = "encrypter={0} decrypter={1}")
  @MethodSource("io.github.mxe2ee.interop.Peers#orderedPairs")
  void sessionDataDecryptsAcrossImplementations(Kind encrypter, Kind decrypter) {
    PeerProcess[] p = Peers.pair(encrypter, decrypter);
    Peers.requireOps(encrypter, p[0], BACKUP_OPS);
    Peers.requireOps(decrypter, p[1], BACKUP_OPS);
    JsonNode key = p[1].ok("backup.create_decryption", null);
    String decryption = key.get("decryption").asText();
    for (String plaintext :
        List.of(
            "{\"algorithm\":\"m.megolm.v1.aes-sha2\",\"session_key\":\"AQAAAAA\"}",
            "",
            "x".repeat(15),
            "x".repeat(16),
            "héllo ✓ " + "y".repeat(1000))) {
      JsonNode data =
          p[0].ok(
              "backup.encrypt",
              args("public_key", key.get("public_key").asText(), "plaintext", plaintext));
      JsonNode out =
          p[1].ok("backup.decrypt", decryptArgs(decryption, data, data.get("mac").asText()));
      assertEquals(plaintext, out.get("plaintext").asText());

      String flipped = Json.flipBit(data.get("mac").asText(), 0);
      JsonNode error = p[1].error("backup.decrypt", decryptArgs(decryption, data, flipped));
      assertEquals("crypto", error.get("kind").asText(), error.toString());
    }
  }

  private static ObjectNode decryptArgs(String decryption, JsonNode data, String mac) {
    return args(
        "decryption",
        decryption,
        "ephemeral",
        data.get("ephemeral").asText(),
        "ciphertext",
        data.get("ciphertext").asText(),
        "mac",
        mac);
  }
}
