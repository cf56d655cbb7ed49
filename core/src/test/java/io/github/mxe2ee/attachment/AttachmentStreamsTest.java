package io.github.mxe2ee.attachment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.mxe2ee.crypto.CryptoException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link AttachmentEncryptor} and {@link AttachmentDecryptor}: chunked use of the cipher. */
class AttachmentStreamsTest {

  private static byte[] data(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void encryptor_inChunks_equalsTheOneShotCipher() {
    byte[] key = data(32, 1);
    byte[] ivHigh = data(8, 2);
    byte[] plaintext = data(300_001, 3);
    EncryptedAttachment whole = AttachmentCipher.encrypt(plaintext, new FixedRandom(key, ivHigh));

    AttachmentEncryptor enc = AttachmentEncryptor.start(new FixedRandom(key, ivHigh));
    byte[] buf = plaintext.clone();
    int[] sizes = {1, 15, 17, 4093, 65_536, 3};
    int off = 0;
    for (int i = 0; off < buf.length; i++) {
      int n = Math.min(sizes[i % sizes.length], buf.length - off);
      enc.update(buf, off, n);
      off += n;
    }
    EncryptedFile file = enc.finish();
    assertArrayEquals(whole.ciphertext(), buf);
    assertArrayEquals(whole.file().sha256(), file.sha256());
    assertArrayEquals(whole.file().iv(), file.iv());
    assertEquals(plaintext.length, enc.length());
    assertArrayEquals(plaintext, AttachmentCipher.decrypt(buf, file));
    assertThrows(IllegalStateException.class, enc::finish);
  }

  @Test
  void decryptor_inChunks_decryptsAndAcceptsTheRightHash() {
    byte[] plaintext = data(70_000, 4);
    EncryptedAttachment enc = AttachmentCipher.encrypt(plaintext, new SecureRandom());
    byte[] buf = enc.ciphertext().clone();
    AttachmentDecryptor dec = AttachmentDecryptor.decrypting(enc.file());
    dec.update(buf, 0, 33);
    dec.update(buf, 33, buf.length - 33);
    dec.finish();
    assertArrayEquals(plaintext, buf);
  }

  @Test
  void verifying_leavesBytesAlone() {
    EncryptedAttachment enc = AttachmentCipher.encrypt(data(1000, 5), new SecureRandom());
    byte[] buf = enc.ciphertext().clone();
    AttachmentDecryptor check = AttachmentDecryptor.verifying(enc.file());
    check.update(buf, 0, buf.length);
    check.finish();
    assertArrayEquals(enc.ciphertext(), buf);
  }

  @Test
  void tamperedCiphertext_failsAtFinish() {
    EncryptedAttachment enc = AttachmentCipher.encrypt(data(5000, 6), new SecureRandom());
    for (boolean decrypt : new boolean[] {false, true}) {
      byte[] buf = enc.ciphertext().clone();
      buf[4999] ^= 1;
      AttachmentDecryptor dec =
          decrypt
              ? AttachmentDecryptor.decrypting(enc.file())
              : AttachmentDecryptor.verifying(enc.file());
      dec.update(buf, 0, buf.length);
      assertThrows(CryptoException.class, dec::finish, "decrypt=" + decrypt);
    }
    byte[] truncated = Arrays.copyOf(enc.ciphertext(), 4999);
    AttachmentDecryptor dec = AttachmentDecryptor.verifying(enc.file());
    dec.update(truncated, 0, truncated.length);
    assertThrows(CryptoException.class, dec::finish, "truncated");
  }
}
