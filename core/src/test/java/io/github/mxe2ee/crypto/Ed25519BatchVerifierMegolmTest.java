package io.github.mxe2ee.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Batch verification of real Megolm messages (the use it was written for): every message of a
 * session is signed by the session's Ed25519 key over the message bytes before the signature.
 */
class Ed25519BatchVerifierMegolmTest {
  private final SecureRandom random = new SecureRandom();

  @Test
  void megolmBacklog_allSignaturesVerifyInOneBatch_andATamperedOneIsFound() {
    OutboundGroupSession session = OutboundGroupSession.create(random);
    List<byte[]> signed = new ArrayList<>();
    List<Ed25519Signature> signatures = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      MegolmMessage m = session.encrypt("{\"body\":\"event " + i + "\"}");
      byte[] wire = m.toBytes();
      signed.add(Arrays.copyOf(wire, wire.length - Ed25519Signature.LENGTH));
      signatures.add(m.signature());
    }
    boolean[] expected = new boolean[120];
    Arrays.fill(expected, true);
    assertArrayEquals(
        expected, Ed25519BatchVerifier.verify(session.signingKey(), signed, signatures, random));

    byte[] tampered = signed.get(77).clone();
    tampered[tampered.length - 9] ^= 0x20; // a ciphertext byte
    signed.set(77, tampered);
    expected[77] = false;
    assertArrayEquals(
        expected, Ed25519BatchVerifier.verify(session.signingKey(), signed, signatures, random));
  }
}
