package io.github.mxe2ee.olm;

import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.PickleCipher;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An Olm session: the double ratchet of {@code shared/spec/matrix-spec/content/olm-megolm/olm.md}
 * between two devices, byte-compatible with libolm 3.2.16 and vodozemac.
 *
 * <p>Created by {@link Account#createOutboundSession} (Alice) or {@link
 * Account#createInboundSession} (Bob). {@link #encrypt(String)} returns {@link PreKeyMessage}s
 * until a message from the other side has been decrypted, then normal {@link OlmMessage}s.
 *
 * <p><b>State changes only on success.</b> {@link #decrypt} works on an immutable copy of the
 * ratchet state and installs it only after the MAC has been verified and the ciphertext decrypted;
 * every failure leaves the session exactly as it was. Persist the session (see {@link
 * #pickle(byte[])}) after every successful {@code encrypt} and {@code decrypt}.
 *
 * <p>Not thread-safe: confine a session to one thread or synchronize externally. Arguments are
 * non-null. Secrets never appear in {@code toString} or exception messages.
 */
public final class Session {
  /**
   * Receiver chains kept for late messages on older ratchet keys; libolm and vodozemac keep 5, the
   * oldest is dropped when a sixth arrives.
   */
  public static final int MAX_RECEIVER_CHAINS = 5;

  /**
   * Message keys kept for out-of-order messages; libolm and vodozemac keep 40 and drop the oldest,
   * which bounds memory and pickle size.
   */
  public static final int MAX_SKIPPED_MESSAGE_KEYS = 40;

  /**
   * How far ahead of the chain a message may be (libolm and vodozemac: 2000): bounds the HMACs an
   * attacker can make us compute with one forged message.
   */
  public static final int MAX_MESSAGE_GAP = 2000;

  private static final int RATCHET_KEY_LENGTH = 32;

  private final SessionKeys sessionKeys;
  private final SecureRandom random;
  private RatchetState state;

  Session(SessionKeys sessionKeys, RatchetState state, SecureRandom random) {
    this.sessionKeys = Objects.requireNonNull(sessionKeys, "sessionKeys");
    this.state = Objects.requireNonNull(state, "state");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** Alice's side: R_0, C_{0,0} from the 3DH secret; T_0 starts her sending chain. */
  static Session outbound(
      SessionKeys keys, byte[] sharedSecret, Curve25519SecretKey ratchetKey, SecureRandom random) {
    RootKey.Step step = RootKey.fromSharedSecret(sharedSecret);
    RatchetState state =
        new RatchetState(
            false,
            step.rootKey(),
            new SenderChain(ratchetKey, step.chainKey()),
            List.of(),
            List.of());
    return new Session(keys, state, random);
  }

  /** Bob's side: R_0, C_{0,0} from the 3DH secret become the receiver chain of T_0. */
  static Session inbound(
      SessionKeys keys,
      byte[] sharedSecret,
      Curve25519PublicKey theirRatchetKey,
      SecureRandom random) {
    RootKey.Step step = RootKey.fromSharedSecret(sharedSecret);
    RatchetState state =
        new RatchetState(
            false,
            step.rootKey(),
            null,
            List.of(new ReceiverChain(theirRatchetKey, step.chainKey())),
            List.of());
    return new Session(keys, state, random);
  }

  /** The session id: unpadded base64 of SHA-256(I_A || E_A || E_B), as libolm computes it. */
  public String sessionId() {
    return sessionKeys.sessionId();
  }

  /** The identity, base and one-time keys this session was created from. */
  public SessionKeys sessionKeys() {
    return sessionKeys;
  }

  /** Whether a message from the other side has been decrypted (then we send normal messages). */
  public boolean hasReceivedMessage() {
    return state.receivedMessage();
  }

  /**
   * Whether a pre-key message belongs to this session: its identity, base and one-time keys are the
   * ones this session was created from.
   */
  public boolean matchesInboundSession(PreKeyMessage message) {
    return sessionKeys.identityKey().equals(message.identityKey())
        && sessionKeys.baseKey().equals(message.baseKey())
        && sessionKeys.oneTimeKey().equals(message.oneTimeKey());
  }

  /**
   * Like {@link #matchesInboundSession(PreKeyMessage)}, and also requires that the session's remote
   * identity key is {@code theirIdentityKey}.
   */
  public boolean matchesInboundSession(
      Curve25519PublicKey theirIdentityKey, PreKeyMessage message) {
    return sessionKeys.identityKey().equals(theirIdentityKey) && matchesInboundSession(message);
  }

  /** Encrypts UTF-8 text; see {@link #encrypt(byte[])}. */
  public AnyOlmMessage encrypt(String plaintext) {
    return encrypt(plaintext.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Encrypts with the next message key of our sending chain, first creating a new chain (with 32
   * bytes from the session's {@link SecureRandom}) if the last message we decrypted started one.
   *
   * @return a {@link PreKeyMessage} until a message has been received, then an {@link OlmMessage}
   * @throws CryptoException if the peer's ratchet key is a low-order point (non-contributory DH)
   */
  public AnyOlmMessage encrypt(byte[] plaintext) {
    Objects.requireNonNull(plaintext, "plaintext");
    RatchetState s = state;
    RootKey rootKey = s.rootKey();
    SenderChain sender = s.senderChain();
    if (sender == null) {
      byte[] seed = new byte[RATCHET_KEY_LENGTH];
      random.nextBytes(seed);
      Curve25519SecretKey ratchetKey = Curve25519SecretKey.fromBytes(seed);
      byte[] dh = ratchetKey.diffieHellman(s.receiverChains().get(0).ratchetKey());
      RootKey.Step step = rootKey.advance(dh);
      rootKey = step.rootKey();
      sender = new SenderChain(ratchetKey, step.chainKey());
    }
    if (sender.chainKey().index() > OlmMessage.MAX_CHAIN_INDEX) {
      throw new IllegalStateException("sending chain exhausted at index 2^32");
    }
    OlmMessage message =
        sender.chainKey().messageKey().encrypt(sender.ratchetPublicKey(), plaintext);
    state =
        new RatchetState(
            s.receivedMessage(),
            rootKey,
            sender.advanced(),
            s.receiverChains(),
            s.skippedMessageKeys());
    if (s.receivedMessage()) {
      return message;
    }
    return PreKeyMessage.of(
        sessionKeys.oneTimeKey(), sessionKeys.baseKey(), sessionKeys.identityKey(), message);
  }

  /**
   * Decrypts a message to UTF-8 text. The plaintext must be valid UTF-8; otherwise this fails with
   * {@code INVALID_UTF8} and the session is unchanged.
   *
   * @throws OlmDecryptionException if the message cannot be decrypted; the session is unchanged
   */
  public String decrypt(AnyOlmMessage message) {
    Decrypted result = decryptOnCopy(inner(message));
    String text = strictUtf8(result.plaintext());
    state = result.state();
    return text;
  }

  /**
   * Decrypts a message to bytes.
   *
   * @throws OlmDecryptionException if the message cannot be decrypted; the session is unchanged
   */
  public byte[] decryptBytes(AnyOlmMessage message) {
    Decrypted result = decryptOnCopy(inner(message));
    state = result.state();
    return result.plaintext();
  }

  private static OlmMessage inner(AnyOlmMessage message) {
    Objects.requireNonNull(message, "message");
    return message instanceof PreKeyMessage p ? p.message() : (OlmMessage) message;
  }

  static String strictUtf8(byte[] plaintext) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(plaintext))
          .toString();
    } catch (CharacterCodingException e) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.INVALID_UTF8, "plaintext is not valid UTF-8");
    }
  }

  /** The plaintext and the state to install if the caller accepts it. */
  record Decrypted(RatchetState state, byte[] plaintext) {}

  /** Decrypts without touching {@link #state}; the caller commits {@link Decrypted#state()}. */
  Decrypted decryptOnCopy(OlmMessage message) {
    RatchetState s = state;
    Curve25519PublicKey ratchetKey = message.ratchetKey();
    long index = message.chainIndex();
    int chainPosition = s.findReceiverChain(ratchetKey);
    if (chainPosition < 0) {
      return decryptOnNewChain(s, message);
    }
    ReceiverChain chain = s.receiverChains().get(chainPosition);
    long next = chain.chainKey().index();
    if (index < next) {
      int keyPosition = s.findSkippedKey(ratchetKey, index);
      if (keyPosition < 0) {
        throw new OlmDecryptionException(
            OlmDecryptionException.Reason.MISSING_MESSAGE_KEY,
            "no message key for chain index " + index + " (chain is at " + next + ")");
      }
      byte[] plaintext = s.skippedMessageKeys().get(keyPosition).messageKey().decrypt(message);
      List<SkippedMessageKey> skipped = new ArrayList<>(s.skippedMessageKeys());
      skipped.remove(keyPosition);
      return new Decrypted(
          new RatchetState(true, s.rootKey(), s.senderChain(), s.receiverChains(), skipped),
          plaintext);
    }
    checkGap(index, next);
    Advanced advanced = advance(chain, message);
    List<ReceiverChain> chains = new ArrayList<>(s.receiverChains());
    chains.set(chainPosition, advanced.chain());
    return new Decrypted(
        new RatchetState(
            true,
            s.rootKey(),
            s.senderChain(),
            chains,
            prepend(advanced.skipped(), s.skippedMessageKeys(), MAX_SKIPPED_MESSAGE_KEYS)),
        advanced.plaintext());
  }

  private static Decrypted decryptOnNewChain(RatchetState s, OlmMessage message) {
    SenderChain sender = s.senderChain();
    if (sender == null) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.UNEXPECTED_RATCHET_KEY,
          "new ratchet key before we sent on the current chain, chain index "
              + message.chainIndex());
    }
    checkGap(message.chainIndex(), 0);
    byte[] dh;
    try {
      dh = sender.ratchetKey().diffieHellman(message.ratchetKey());
    } catch (CryptoException e) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.NON_CONTRIBUTORY_KEY,
          "the message's ratchet key gives an all-zero shared secret");
    }
    RootKey.Step step = s.rootKey().advance(dh);
    Advanced advanced = advance(new ReceiverChain(message.ratchetKey(), step.chainKey()), message);
    return new Decrypted(
        new RatchetState(
            true,
            step.rootKey(),
            null,
            prepend(List.of(advanced.chain()), s.receiverChains(), MAX_RECEIVER_CHAINS),
            prepend(advanced.skipped(), s.skippedMessageKeys(), MAX_SKIPPED_MESSAGE_KEYS)),
        advanced.plaintext());
  }

  private static void checkGap(long index, long next) {
    if (index - next > MAX_MESSAGE_GAP) {
      throw new OlmDecryptionException(
          OlmDecryptionException.Reason.MESSAGE_GAP_TOO_BIG,
          "chain index " + index + " is more than " + MAX_MESSAGE_GAP + " ahead of " + next);
    }
  }

  private record Advanced(ReceiverChain chain, List<SkippedMessageKey> skipped, byte[] plaintext) {}

  /** Advances a copy of the chain to the message, keeping at most the last skipped keys. */
  private static Advanced advance(ReceiverChain chain, OlmMessage message) {
    long target = message.chainIndex();
    ChainKey chainKey = chain.chainKey();
    List<SkippedMessageKey> skipped = new ArrayList<>();
    while (chainKey.index() < target) {
      if (target - chainKey.index() <= MAX_SKIPPED_MESSAGE_KEYS) {
        skipped.add(0, new SkippedMessageKey(chain.ratchetKey(), chainKey.messageKey()));
      }
      chainKey = chainKey.next();
    }
    byte[] plaintext = chainKey.messageKey().decrypt(message);
    return new Advanced(new ReceiverChain(chain.ratchetKey(), chainKey.next()), skipped, plaintext);
  }

  /** newest-first list: {@code front} then {@code rest}, cut to {@code max} (drops the oldest). */
  private static <T> List<T> prepend(List<T> front, List<T> rest, int max) {
    List<T> out = new ArrayList<>(front.size() + rest.size());
    out.addAll(front);
    out.addAll(rest);
    return out.size() > max ? out.subList(0, max) : out;
  }

  /** Commits a state computed by {@link #decryptOnCopy}. */
  void install(RatchetState newState) {
    state = Objects.requireNonNull(newState, "newState");
  }

  /** The current ratchet state (immutable); for pickling and tests. */
  RatchetState state() {
    return state;
  }

  SecureRandom random() {
    return random;
  }

  /**
   * Serializes and encrypts the session in mxe2ee's own versioned format ({@link SessionPickle}).
   *
   * @param pickleKey 32 bytes
   */
  public String pickle(byte[] pickleKey) {
    return PickleCipher.mxe2ee(pickleKey).encrypt(SessionPickle.encode(this));
  }

  /**
   * Restores a session from {@link #pickle(byte[])} output; new ratchet keys come from a fresh
   * {@link SecureRandom}.
   *
   * @throws io.github.mxe2ee.crypto.CryptoException if the key is wrong or the pickle was altered
   * @throws io.github.mxe2ee.crypto.DecodeException if the pickle is malformed
   */
  public static Session fromPickle(String pickle, byte[] pickleKey) {
    return fromPickle(pickle, pickleKey, new SecureRandom());
  }

  /** Like {@link #fromPickle(String, byte[])} with an injected source of randomness. */
  public static Session fromPickle(String pickle, byte[] pickleKey, SecureRandom random) {
    return SessionPickle.decode(PickleCipher.mxe2ee(pickleKey).decrypt(pickle), random);
  }

  /**
   * Imports a session pickled by libolm ({@code olm_pickle_session}, versions 1 and 0x80000001).
   *
   * @param pickleKey the key given to libolm (any length)
   * @throws io.github.mxe2ee.crypto.CryptoException if the key is wrong or the pickle was altered
   * @throws OlmDecodeException if the pickle is malformed or of an unknown version
   */
  public static Session fromLibolmPickle(String pickle, byte[] pickleKey) {
    return LibolmPickles.session(
        PickleCipher.libolm(pickleKey).decrypt(pickle), new SecureRandom());
  }

  @Override
  public String toString() {
    return "Session{sessionId="
        + sessionId()
        + ", receivedMessage="
        + state.receivedMessage()
        + ", receiverChains="
        + state.receiverChains().size()
        + ", skippedMessageKeys="
        + state.skippedMessageKeys().size()
        + "}";
  }
}
