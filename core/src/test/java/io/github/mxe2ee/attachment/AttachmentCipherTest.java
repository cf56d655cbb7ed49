package io.github.mxe2ee.attachment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Round trips, streaming equivalence, tampering and the key/IV rules of {@link AttachmentCipher}.
 */
class AttachmentCipherTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int MIB = 1024 * 1024;

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 15, 16, 17, 31, 33, 1000, AttachmentCipher.BUFFER_SIZE + 7, MIB})
  void roundTrip_inMemoryAndStreaming_agree(int size) throws IOException {
    byte[] plaintext = pseudoRandom(size, size);
    byte[] key = pseudoRandom(32, -size);
    byte[] ivHigh = pseudoRandom(8, size + 1);

    EncryptedAttachment inMemory =
        AttachmentCipher.encrypt(plaintext, new FixedRandom(key, ivHigh));
    ByteArrayOutputStream streamedCiphertext = new ByteArrayOutputStream();
    EncryptedFile streamedFile =
        AttachmentCipher.encrypt(
            new ChunkedInput(plaintext, 4093), streamedCiphertext, new FixedRandom(key, ivHigh));

    assertArrayEquals(inMemory.ciphertext(), streamedCiphertext.toByteArray(), "size " + size);
    assertEquals(inMemory.file().toJson(), streamedFile.toJson(), "size " + size);
    assertEquals(size, inMemory.ciphertext().length);
    if (size >= 16) {
      assertFalse(
          Arrays.equals(plaintext, inMemory.ciphertext()), "ciphertext must differ from plaintext");
    }

    assertArrayEquals(plaintext, AttachmentCipher.decrypt(inMemory.ciphertext(), streamedFile));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AttachmentCipher.decryptStreaming(
        new ChunkedInput(inMemory.ciphertext(), 777), out, inMemory.file());
    assertArrayEquals(plaintext, out.toByteArray());
    ByteArrayOutputStream verified = new ByteArrayOutputStream();
    AttachmentCipher.decryptVerified(
        () -> new ByteArrayInputStream(inMemory.ciphertext()), verified, inMemory.file());
    assertArrayEquals(plaintext, verified.toByteArray());
  }

  @Test
  void encrypt_drawsKeyThenIvHighHalf_andZeroesCounterHalf() {
    byte[] key = pseudoRandom(32, 1);
    byte[] ivHigh = pseudoRandom(8, 2);
    FixedRandom random = new FixedRandom(key, ivHigh);
    EncryptedFile file = AttachmentCipher.encrypt(new byte[5], random).file();
    assertEquals(0, random.remaining(), "exactly 40 random bytes");
    byte[] iv = file.iv();
    assertArrayEquals(ivHigh, Arrays.copyOf(iv, 8));
    assertArrayEquals(new byte[8], Arrays.copyOfRange(iv, 8, 16));
    ObjectNode json = file.toJson();
    assertEquals(UnpaddedBase64.encodeUrlSafe(key), json.at("/key/k").asText());
    assertEquals("v2", json.get("v").asText());
    assertFalse(json.has("url"));
  }

  @Test
  void encrypt_twiceWithRealRandom_usesFreshKeyAndIv() {
    byte[] plaintext = new byte[64];
    EncryptedAttachment a = AttachmentCipher.encrypt(plaintext, RANDOM);
    EncryptedAttachment b = AttachmentCipher.encrypt(plaintext, RANDOM);
    assertNotEquals(a.file().toJson().at("/key/k"), b.file().toJson().at("/key/k"));
    assertFalse(Arrays.equals(a.file().iv(), b.file().iv()));
    assertFalse(Arrays.equals(a.ciphertext(), b.ciphertext()));
  }

  @Test
  void encrypt_hashIsSha256OfCiphertext() throws Exception {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(100, 3), RANDOM);
    byte[] expected = MessageDigest.getInstance("SHA-256").digest(a.ciphertext());
    assertArrayEquals(expected, a.file().sha256());
  }

  @Test
  void decrypt_tamperedCiphertext_throwsCryptoBeforeReturningPlaintext() {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(100, 4), RANDOM);
    for (int i : new int[] {0, 50, 99}) {
      byte[] tampered = a.ciphertext().clone();
      tampered[i] ^= 1;
      CryptoException e =
          assertThrows(CryptoException.class, () -> AttachmentCipher.decrypt(tampered, a.file()));
      assertEquals("crypto", e.kind());
    }
    byte[] truncated = Arrays.copyOf(a.ciphertext(), 99);
    assertThrows(CryptoException.class, () -> AttachmentCipher.decrypt(truncated, a.file()));
    byte[] extended = Arrays.copyOf(a.ciphertext(), 101);
    assertThrows(CryptoException.class, () -> AttachmentCipher.decrypt(extended, a.file()));
  }

  @Test
  void decrypt_wrongHash_throwsCrypto_andLeavesInputUnchanged() {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(40, 5), RANDOM);
    ObjectNode json = a.file().toJson();
    byte[] hash = a.file().sha256();
    hash[31] ^= (byte) 0x80;
    ((ObjectNode) json.get("hashes")).put("sha256", UnpaddedBase64.encode(hash));
    EncryptedFile wrong = EncryptedFile.fromJson(json);
    byte[] before = a.ciphertext().clone();
    assertThrows(CryptoException.class, () -> AttachmentCipher.decrypt(a.ciphertext(), wrong));
    assertArrayEquals(before, a.ciphertext());
  }

  /**
   * The spec's hash covers the ciphertext only, so a wrong key with the right hash is not
   * detectable here (the Megolm-encrypted event vouches for the key): decryption yields other
   * bytes, never the plaintext.
   */
  @Test
  void decrypt_wrongKeyWithRightHash_yieldsOtherBytes() {
    byte[] plaintext = pseudoRandom(64, 6);
    EncryptedAttachment a = AttachmentCipher.encrypt(plaintext, RANDOM);
    ObjectNode json = a.file().toJson();
    ((ObjectNode) json.get("key")).put("k", UnpaddedBase64.encodeUrlSafe(pseudoRandom(32, 7)));
    byte[] other = AttachmentCipher.decrypt(a.ciphertext(), EncryptedFile.fromJson(json));
    assertEquals(plaintext.length, other.length);
    assertFalse(Arrays.equals(plaintext, other));
  }

  @Test
  void decrypt_legacyV1File_decryptsLikeV2() {
    byte[] plaintext = pseudoRandom(100, 12);
    EncryptedAttachment a = AttachmentCipher.encrypt(plaintext, RANDOM);
    ObjectNode json = a.file().toJson();
    json.put("v", "v1");
    EncryptedFile v1 = EncryptedFile.fromJson(json);
    assertEquals("v1", v1.version());
    assertArrayEquals(plaintext, AttachmentCipher.decrypt(a.ciphertext(), v1));
  }

  @Test
  void decryptStreaming_mismatch_throwsAtEndAfterWriting() {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(200_000, 8), RANDOM);
    byte[] tampered = a.ciphertext().clone();
    tampered[tampered.length - 1] ^= 1;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(
        CryptoException.class,
        () -> AttachmentCipher.decryptStreaming(new ByteArrayInputStream(tampered), out, a.file()));
    assertEquals(tampered.length, out.size(), "documented: one pass writes before it can check");
  }

  @Test
  void decryptVerified_mismatch_writesNothing_andOpensOnce() {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(200_000, 9), RANDOM);
    byte[] tampered = a.ciphertext().clone();
    tampered[100_000] ^= 1;
    AtomicInteger opens = new AtomicInteger();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(
        CryptoException.class,
        () ->
            AttachmentCipher.decryptVerified(
                () -> {
                  opens.incrementAndGet();
                  return new ByteArrayInputStream(tampered);
                },
                out,
                a.file()));
    assertEquals(0, out.size());
    assertEquals(1, opens.get());
  }

  @Test
  void decryptVerified_sourceChangedBetweenPasses_throwsAtEnd() {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(1000, 10), RANDOM);
    byte[] tampered = a.ciphertext().clone();
    tampered[0] ^= 1;
    AtomicInteger opens = new AtomicInteger();
    assertThrows(
        CryptoException.class,
        () ->
            AttachmentCipher.decryptVerified(
                () ->
                    new ByteArrayInputStream(
                        opens.getAndIncrement() == 0 ? a.ciphertext() : tampered),
                new ByteArrayOutputStream(),
                a.file()));
    assertEquals(2, opens.get());
  }

  @Test
  void verify_acceptsOriginal_rejectsTampered() throws IOException {
    EncryptedAttachment a = AttachmentCipher.encrypt(pseudoRandom(5000, 11), RANDOM);
    AttachmentCipher.verify(new ByteArrayInputStream(a.ciphertext()), a.file());
    byte[] tampered = a.ciphertext().clone();
    tampered[4999] ^= 4;
    assertThrows(
        CryptoException.class,
        () -> AttachmentCipher.verify(new ByteArrayInputStream(tampered), a.file()));
  }

  @Test
  void encrypt_nullArguments_rejected() {
    assertThrows(NullPointerException.class, () -> AttachmentCipher.encrypt(null, RANDOM));
    assertThrows(NullPointerException.class, () -> AttachmentCipher.encrypt(new byte[1], null));
    EncryptedFile file = AttachmentCipher.encrypt(new byte[1], RANDOM).file();
    assertThrows(NullPointerException.class, () -> AttachmentCipher.decrypt(null, file));
    assertThrows(NullPointerException.class, () -> AttachmentCipher.decrypt(new byte[1], null));
  }

  @Test
  void encryptedAttachment_toString_omitsKey() {
    EncryptedAttachment a = AttachmentCipher.encrypt(new byte[3], RANDOM);
    String k = a.file().toJson().at("/key/k").asText();
    assertFalse(a.toString().contains(k), a.toString());
    assertTrue(a.toString().contains("3 bytes"), a.toString());
  }

  static byte[] pseudoRandom(int length, long seed) {
    byte[] out = new byte[length];
    new Random(seed).nextBytes(out);
    return out;
  }

  /** Hands out at most {@code chunk} bytes per read, to exercise partial blocks in the streams. */
  static final class ChunkedInput extends InputStream {
    private final byte[] data;
    private final int chunk;
    private int position;

    ChunkedInput(byte[] data, int chunk) {
      this.data = data;
      this.chunk = chunk;
    }

    @Override
    public int read() {
      return position < data.length ? data[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (position >= data.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, chunk), data.length - position);
      System.arraycopy(data, position, b, off, n);
      position += n;
      return n;
    }
  }
}
