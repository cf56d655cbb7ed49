package io.github.mxe2ee.megolm;

import io.github.mxe2ee.crypto.ConstantTime;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Ed25519BatchVerifier;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.Ed25519Signature;
import io.github.mxe2ee.megolm.MegolmDecryptionException.Reason;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The receiving side of a Megolm session: the earliest known ratchet state and the sender's Ed25519
 * signing key.
 *
 * <p>Spec: {@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}, "Sharing session data",
 * "Message encryption", "Advancing the ratchet" (inbound sessions keep their earliest ratchet and
 * may cache later ones) and "Session export format".
 *
 * <p>{@link #decrypt(MegolmMessage)} checks the Ed25519 signature first, then derives the ratchet
 * at the message index with {@link Ratchet#advanceTo} (from a cached later state when one is
 * closer, otherwise from the initial state; never step by step), checks the truncated MAC in
 * constant time and only then decrypts. The cache is replaced only after a successful decrypt, so a
 * failed decrypt leaves the session exactly as it was. Replay detection (an index seen twice) is
 * the caller's job, as the spec's "Message Replays" section recommends.
 *
 * <p>Contract: thread-safe; arguments must not be null and results never are. The initial ratchet
 * and key never change; the cached ratchet is an immutable snapshot swapped atomically. Secrets
 * never appear in {@link #toString()}.
 */
public final class InboundGroupSession {
  private final Ratchet initialRatchet;
  private final Ed25519PublicKey signingKey;
  private final boolean signingKeyVerified;

  /** A later ratchet state that is never mutated once published; at or after the initial one. */
  private volatile Ratchet latestRatchet;

  InboundGroupSession(
      Ratchet initial, Ratchet latest, Ed25519PublicKey signingKey, boolean signingKeyVerified) {
    this.initialRatchet = initial;
    this.latestRatchet = latest;
    this.signingKey = signingKey;
    this.signingKeyVerified = signingKeyVerified;
  }

  /**
   * Creates the session from a signed session key, as received in {@code m.room_key}; the key's
   * signature was verified when it was decoded, so the session counts as verified.
   */
  public static InboundGroupSession fromSessionKey(SessionKey key) {
    Ratchet ratchet = key.ratchet();
    return new InboundGroupSession(ratchet, ratchet.copy(), key.signingKey(), true);
  }

  /**
   * Imports an unsigned exported key (key export, backup, forwarded key). The session is not
   * verified: its authenticity rests on whoever supplied the key.
   */
  public static InboundGroupSession fromExportedSessionKey(ExportedSessionKey key) {
    Ratchet ratchet = key.ratchet();
    return new InboundGroupSession(ratchet, ratchet.copy(), key.signingKey(), false);
  }

  /**
   * Restores a session pickled by {@link #pickle(byte[])}.
   *
   * @throws io.github.mxe2ee.crypto.CryptoException if the key is wrong or the pickle was altered
   * @throws io.github.mxe2ee.crypto.DecodeException if it is malformed or not an inbound pickle
   */
  public static InboundGroupSession fromPickle(String pickle, byte[] pickleKey) {
    return InboundGroupSessionPickle.decrypt(pickle, pickleKey).toSession();
  }

  /**
   * Imports a libolm {@code OlmInboundGroupSession} pickle (pickle versions 1 and 2).
   *
   * @param pickle libolm's base64 pickle
   * @param pickleKey the key given to {@code olm_pickle_inbound_group_session} (any length)
   * @throws io.github.mxe2ee.crypto.CryptoException if the key is wrong or the pickle was altered
   * @throws io.github.mxe2ee.crypto.DecodeException if malformed or of another version
   */
  public static InboundGroupSession fromLibolmPickle(String pickle, byte[] pickleKey) {
    return LibolmGroupPickles.inbound(pickle, pickleKey);
  }

  /** The session id: unpadded base64 of the sender's Ed25519 signing key. */
  public String sessionId() {
    return signingKey.toBase64();
  }

  /** The sender's Ed25519 signing key. */
  public Ed25519PublicKey signingKey() {
    return signingKey;
  }

  /** True if the session came from a signed {@link SessionKey} (or was merged with one). */
  public boolean isSigningKeyVerified() {
    return signingKeyVerified;
  }

  /** The lowest message index this session can decrypt, 0..2^32-1. */
  public long firstKnownIndex() {
    return initialRatchet.indexAsLong();
  }

  /**
   * Authenticates and decrypts {@code message}.
   *
   * @throws MegolmDecryptionException with reason {@code BAD_SIGNATURE}, {@code
   *     UNKNOWN_MESSAGE_INDEX}, {@code BAD_MAC} or {@code BAD_PADDING}; the session is unchanged
   */
  public DecryptedMessage decrypt(MegolmMessage message) {
    Objects.requireNonNull(message, "message");
    byte[] encoded = message.encodedBytes();
    if (!signingKey.verify(
        encoded, 0, MegolmMessage.signatureInputLength(encoded), message.signature())) {
      throw badSignature(message);
    }
    return decryptVerified(message, encoded);
  }

  /** Fewer messages than this are verified one by one: a batch has a fixed set-up cost. */
  public static final int MIN_BATCH = Ed25519BatchVerifier.MIN_BATCH_SIZE;

  private static final SecureRandom BATCH_RANDOM = new SecureRandom();

  /**
   * The outcome for one message of {@link #decryptAll}: exactly one of the two is non-null.
   *
   * @param message the decrypted message, or null
   * @param error why this message failed, or null
   */
  public record Attempt(DecryptedMessage message, MegolmDecryptionException error) {}

  /**
   * Decrypts a backlog: verifies all signatures in one Ed25519 batch ({@link Ed25519BatchVerifier},
   * about four times cheaper per signature), then checks the MAC of and decrypts each message as
   * {@link #decrypt} does. The results are exactly those of calling {@link #decrypt} on each
   * message in order: a bad message fails alone. Pass messages in index order for the ratchet cache
   * to help.
   *
   * @return one attempt per message, in order
   */
  public List<Attempt> decryptAll(List<MegolmMessage> messages) {
    List<Attempt> out = new ArrayList<>(messages.size());
    if (messages.size() < MIN_BATCH) {
      for (MegolmMessage m : messages) {
        out.add(attempt(() -> decrypt(m)));
      }
      return out;
    }
    List<byte[]> signed = new ArrayList<>(messages.size());
    List<Ed25519Signature> signatures = new ArrayList<>(messages.size());
    for (MegolmMessage m : messages) {
      byte[] encoded = m.encodedBytes();
      signed.add(Arrays.copyOf(encoded, MegolmMessage.signatureInputLength(encoded)));
      signatures.add(m.signature());
    }
    boolean[] valid = Ed25519BatchVerifier.verify(signingKey, signed, signatures, BATCH_RANDOM);
    for (int i = 0; i < messages.size(); i++) {
      MegolmMessage m = messages.get(i);
      if (!valid[i]) {
        out.add(new Attempt(null, badSignature(m)));
      } else {
        out.add(attempt(() -> decryptVerified(m, m.encodedBytes())));
      }
    }
    return out;
  }

  private static Attempt attempt(java.util.function.Supplier<DecryptedMessage> call) {
    try {
      return new Attempt(call.get(), null);
    } catch (MegolmDecryptionException e) {
      return new Attempt(null, e);
    }
  }

  private MegolmDecryptionException badSignature(MegolmMessage message) {
    return new MegolmDecryptionException(
        Reason.BAD_SIGNATURE,
        "Megolm message signature does not verify for session "
            + sessionId()
            + " at index "
            + message.messageIndex());
  }

  private DecryptedMessage decryptVerified(MegolmMessage message, byte[] encoded) {
    int index = message.rawMessageIndex();
    Ratchet ratchet = ratchetAt(index);
    if (ratchet == null) {
      throw new MegolmDecryptionException(
          Reason.UNKNOWN_MESSAGE_INDEX,
          "Megolm message index "
              + message.messageIndex()
              + " is below the first known index "
              + firstKnownIndex()
              + " of session "
              + sessionId());
    }
    MessageKeys keys = MessageKeys.derive(ratchet);
    try {
      int macInput = MegolmMessage.macInputLength(encoded);
      byte[] expected = keys.truncatedMac(encoded, macInput);
      byte[] actual = Arrays.copyOfRange(encoded, macInput, macInput + MegolmMessage.MAC_LENGTH);
      if (!ConstantTime.equals(expected, actual)) {
        throw new MegolmDecryptionException(
            Reason.BAD_MAC,
            "Megolm message MAC mismatch for session "
                + sessionId()
                + " at index "
                + message.messageIndex());
      }
      byte[] plaintext;
      try {
        plaintext = keys.decrypt(message.ciphertext());
      } catch (CryptoException e) {
        throw new MegolmDecryptionException(
            Reason.BAD_PADDING,
            "Megolm message has bad padding for session "
                + sessionId()
                + " at index "
                + message.messageIndex(),
            e);
      }
      latestRatchet = ratchet;
      return new DecryptedMessage(plaintext, message.messageIndex());
    } finally {
      keys.wipe();
    }
  }

  /**
   * Exports the session starting at {@code index}, dropping the ability to decrypt anything earlier
   * for whoever imports it.
   *
   * @param index 0..2^32-1, at least {@link #firstKnownIndex()}
   * @return the export, or empty if {@code index} is below the first known index
   * @throws IllegalArgumentException if {@code index} is not an unsigned 32-bit value
   */
  public Optional<ExportedSessionKey> exportAt(long index) {
    Ratchet ratchet = ratchetAt(toU32(index));
    return Optional.ofNullable(ratchet).map(r -> ExportedSessionKey.of(r, signingKey));
  }

  /** Exports the session at its first known index. */
  public ExportedSessionKey exportAtFirstKnownIndex() {
    return ExportedSessionKey.of(initialRatchet, signingKey);
  }

  /**
   * Compares this session with another copy of (possibly) the same session. They are the same
   * session if they share the signing key and their ratchets match byte for byte once the earlier
   * one is advanced to the later one's index.
   *
   * @return {@code BETTER} if this one reaches further back, {@code WORSE} if the other does,
   *     {@code EQUAL} if both start at the same index, {@code UNCONNECTED} if they are different
   *     sessions
   */
  public SessionOrdering compare(InboundGroupSession other) {
    if (!signingKey.equals(other.signingKey)) {
      return SessionOrdering.UNCONNECTED;
    }
    int ours = initialRatchet.index();
    int theirs = other.initialRatchet.index();
    int order = Integer.compareUnsigned(ours, theirs);
    boolean connected =
        order <= 0
            ? advancedCopy(initialRatchet, theirs).sameStateAs(other.initialRatchet)
            : advancedCopy(other.initialRatchet, ours).sameStateAs(initialRatchet);
    if (!connected) {
      return SessionOrdering.UNCONNECTED;
    }
    return order < 0
        ? SessionOrdering.BETTER
        : order == 0 ? SessionOrdering.EQUAL : SessionOrdering.WORSE;
  }

  /**
   * Merges two copies of the same session: the earlier ratchet wins, and the result is verified if
   * either input was.
   *
   * @return the merged session, or empty if the two are {@link SessionOrdering#UNCONNECTED}
   */
  public Optional<InboundGroupSession> merge(InboundGroupSession other) {
    SessionOrdering ordering = compare(other);
    if (ordering == SessionOrdering.UNCONNECTED) {
      return Optional.empty();
    }
    Ratchet best =
        ordering == SessionOrdering.WORSE ? other.initialRatchet.copy() : initialRatchet.copy();
    return Optional.of(
        new InboundGroupSession(
            best, best.copy(), signingKey, signingKeyVerified || other.signingKeyVerified));
  }

  /**
   * Serializes and encrypts the session with {@code PickleCipher.mxe2ee(pickleKey)}.
   *
   * @param pickleKey 32 bytes
   */
  public String pickle(byte[] pickleKey) {
    return new InboundGroupSessionPickle(
            initialRatchet.copy(), latestRatchet.copy(), signingKey, signingKeyVerified)
        .encrypt(pickleKey);
  }

  Ratchet initialRatchet() {
    return initialRatchet.copy();
  }

  Ratchet latestRatchet() {
    return latestRatchet.copy();
  }

  /** A fresh ratchet at {@code index}, from the closest known state, or null if below the start. */
  private Ratchet ratchetAt(int index) {
    if (Integer.compareUnsigned(index, initialRatchet.index()) < 0) {
      return null;
    }
    Ratchet latest = latestRatchet;
    Ratchet base =
        Integer.compareUnsigned(latest.index(), index) <= 0
                && Integer.compareUnsigned(latest.index(), initialRatchet.index()) >= 0
            ? latest
            : initialRatchet;
    return advancedCopy(base, index);
  }

  private static Ratchet advancedCopy(Ratchet ratchet, int index) {
    Ratchet copy = ratchet.copy();
    copy.advanceTo(index);
    return copy;
  }

  private static int toU32(long index) {
    if (index < 0 || index > 0xffffffffL) {
      throw new IllegalArgumentException("message index must be 0..2^32-1, got " + index);
    }
    return (int) index;
  }

  @Override
  public String toString() {
    return "InboundGroupSession[sessionId="
        + sessionId()
        + ", firstKnownIndex="
        + firstKnownIndex()
        + ", verified="
        + signingKeyVerified
        + "]";
  }
}
