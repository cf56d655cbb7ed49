package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.backup.BackupDecryptionKey;
import io.github.mxe2ee.backup.BackupEncryptionKey;
import io.github.mxe2ee.backup.EncryptedSessionData;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/**
 * Key backup operations ({@code m.megolm_backup.v1.curve25519-aes-sha2}, libolm's {@code
 * PkEncryption}): {@code backup.create_decryption}, {@code backup.encrypt}, {@code backup.decrypt}.
 */
final class BackupOperations {
  static final String DECRYPTION = "backup_decryption";

  private static final SecureRandom RANDOM = new SecureRandom();

  private BackupOperations() {}

  static void register(PeerDriver driver) {
    driver.register("backup.create_decryption", args -> create(driver));
    driver.register("backup.encrypt", BackupOperations::encrypt);
    driver.register("backup.decrypt", args -> decrypt(driver, args));
  }

  private static ObjectNode create(PeerDriver driver) {
    BackupDecryptionKey key = BackupDecryptionKey.generate(RANDOM);
    ObjectNode result = PeerDriver.object();
    result.put("decryption", driver.handles().add(DECRYPTION, key));
    result.put("public_key", key.encryptionKey().publicKey().toBase64());
    return result;
  }

  private static ObjectNode encrypt(Args args) {
    EncryptedSessionData data =
        BackupEncryptionKey.fromBase64(args.string("public_key"))
            .encrypt(args.string("plaintext").getBytes(StandardCharsets.UTF_8), RANDOM);
    ObjectNode result = PeerDriver.object();
    result.put("ephemeral", UnpaddedBase64.encode(data.ephemeral()));
    result.put("ciphertext", UnpaddedBase64.encode(data.ciphertext()));
    result.put("mac", UnpaddedBase64.encode(data.mac()));
    return result;
  }

  private static ObjectNode decrypt(PeerDriver driver, Args args) {
    BackupDecryptionKey key =
        driver.handles().get(args.string("decryption"), DECRYPTION, BackupDecryptionKey.class);
    EncryptedSessionData data =
        new EncryptedSessionData(
            args.base64("ephemeral"), args.base64("ciphertext"), args.base64("mac"));
    ObjectNode result = PeerDriver.object();
    result.put("plaintext", new String(key.decrypt(data), StandardCharsets.UTF_8));
    return result;
  }
}
