package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.olm.Account;
import io.github.mxe2ee.olm.AnyOlmMessage;
import io.github.mxe2ee.olm.IdentityKeys;
import io.github.mxe2ee.olm.InboundCreationResult;
import io.github.mxe2ee.olm.OlmDecryptionException;
import io.github.mxe2ee.olm.PreKeyMessage;
import io.github.mxe2ee.olm.Session;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The {@code account.*} and {@code session.*} operations of the interop protocol over mxe2ee's
 * {@link Account} and {@link Session} ({@code shared/spec/matrix-spec/content/olm-megolm/olm.md}),
 * their pickling, and the mapping of {@link OlmDecryptionException} reasons to error kinds.
 */
final class OlmOperations {
  private final PeerDriver driver;
  private final Handles handles;

  private OlmOperations(PeerDriver driver) {
    this.driver = driver;
    this.handles = driver.handles();
  }

  static void register(PeerDriver driver) {
    OlmOperations ops = new OlmOperations(driver);
    driver.register("account.create", ops::accountCreate);
    driver.register("account.identity_keys", ops::accountIdentityKeys);
    driver.register("account.generate_one_time_keys", ops::generateOneTimeKeys);
    driver.register("account.one_time_keys", ops::oneTimeKeys);
    driver.register("account.max_one_time_keys", ops::maxOneTimeKeys);
    driver.register("account.generate_fallback_key", ops::generateFallbackKey);
    driver.register("account.fallback_key", ops::fallbackKey);
    driver.register("account.mark_published", ops::markPublished);
    driver.register("account.sign", ops::sign);
    driver.register("session.create_outbound", ops::createOutbound);
    driver.register("session.create_inbound", ops::createInbound);
    driver.register("session.encrypt", ops::encrypt);
    driver.register("session.decrypt", ops::decrypt);
    driver.register("session.id", ops::sessionId);
    driver.register("session.matches_inbound", ops::matchesInbound);
    driver.addPickler(
        Handles.ACCOUNT,
        Pickler.of(
            Account.class,
            Account::pickle,
            (pickle, key) -> Account.fromPickle(pickle, key, driver.random()),
            Account::fromLibolmPickle));
    driver.addPickler(
        Handles.SESSION,
        Pickler.of(
            Session.class,
            Session::pickle,
            (pickle, key) -> Session.fromPickle(pickle, key, driver.random()),
            Session::fromLibolmPickle));
    driver.addErrorMapper(OlmOperations::mapError);
  }

  /**
   * Protocol kinds for the reasons of {@link OlmDecryptionException} (whose core kind is crypto).
   */
  static PeerException mapError(RuntimeException e) {
    if (!(e instanceof OlmDecryptionException olm)) {
      return null;
    }
    String kind =
        switch (olm.reason()) {
          case MISSING_MESSAGE_KEY -> ErrorKinds.MISSING_MESSAGE_KEY;
          case MESSAGE_GAP_TOO_BIG -> ErrorKinds.TOO_BIG_GAP;
          case UNKNOWN_ONE_TIME_KEY -> ErrorKinds.MISSING_ONE_TIME_KEY;
          default -> ErrorKinds.CRYPTO;
        };
    return new PeerException(kind, olm.getMessage());
  }

  private Account account(Args args) {
    return handles.get(args.string("account"), Handles.ACCOUNT, Account.class);
  }

  private Session session(Args args) {
    return handles.get(args.string("session"), Handles.SESSION, Session.class);
  }

  private static ObjectNode identityKeys(IdentityKeys keys) {
    ObjectNode node = PeerDriver.object();
    node.put("curve25519", keys.curve25519().toBase64());
    node.put("ed25519", keys.ed25519().toBase64());
    return node;
  }

  private static ObjectNode keyMap(Map<String, Curve25519PublicKey> keys) {
    ObjectNode node = PeerDriver.object();
    keys.forEach((id, key) -> node.put(id, key.toBase64()));
    return node;
  }

  private static ObjectNode result(String name, ObjectNode value) {
    ObjectNode result = PeerDriver.object();
    result.set(name, value);
    return result;
  }

  private ObjectNode accountCreate(Args args) {
    Account account = Account.create(driver.random());
    ObjectNode result = PeerDriver.object();
    result.put("account", handles.add(Handles.ACCOUNT, account));
    result.set("identity_keys", identityKeys(account.identityKeys()));
    return result;
  }

  private ObjectNode accountIdentityKeys(Args args) {
    return result("identity_keys", identityKeys(account(args).identityKeys()));
  }

  private ObjectNode generateOneTimeKeys(Args args) {
    Account account = account(args);
    account.generateOneTimeKeys(args.nonNegativeInt("count"));
    return result("one_time_keys", keyMap(account.oneTimeKeys()));
  }

  private ObjectNode oneTimeKeys(Args args) {
    return result("one_time_keys", keyMap(account(args).oneTimeKeys()));
  }

  private ObjectNode maxOneTimeKeys(Args args) {
    ObjectNode result = PeerDriver.object();
    result.put("max_one_time_keys", account(args).maxNumberOfOneTimeKeys());
    return result;
  }

  private ObjectNode generateFallbackKey(Args args) {
    Account account = account(args);
    account.generateFallbackKey();
    return result("fallback_key", keyMap(account.fallbackKey()));
  }

  private ObjectNode fallbackKey(Args args) {
    return result("fallback_key", keyMap(account(args).fallbackKey()));
  }

  private ObjectNode markPublished(Args args) {
    account(args).markKeysAsPublished();
    return PeerDriver.object();
  }

  private ObjectNode sign(Args args) {
    Account account = account(args);
    ObjectNode result = PeerDriver.object();
    result.put("signature", account.sign(args.string("message")).toBase64());
    return result;
  }

  private ObjectNode createOutbound(Args args) {
    Account account = account(args);
    Session session =
        account.createOutboundSession(
            Curve25519PublicKey.fromBase64(args.string("identity_key")),
            Curve25519PublicKey.fromBase64(args.string("one_time_key")));
    ObjectNode result = PeerDriver.object();
    result.put("session", handles.add(Handles.SESSION, session));
    result.put("session_id", session.sessionId());
    return result;
  }

  private ObjectNode createInbound(Args args) {
    Account account = account(args);
    Curve25519PublicKey sender = Curve25519PublicKey.fromBase64(args.string("sender_identity_key"));
    InboundCreationResult created = account.createInboundSession(sender, preKeyMessage(args));
    ObjectNode result = PeerDriver.object();
    result.put("session", handles.add(Handles.SESSION, created.session()));
    result.put("session_id", created.session().sessionId());
    result.put("plaintext", created.plaintext());
    return result;
  }

  private ObjectNode encrypt(Args args) {
    Session session = session(args);
    AnyOlmMessage message = session.encrypt(args.string("plaintext"));
    ObjectNode json = PeerDriver.object();
    json.put("type", message.type().wireType());
    json.put("body", message.toBase64());
    return result("message", json);
  }

  private ObjectNode decrypt(Args args) {
    Session session = session(args);
    Args.OlmMessageArg arg = args.olmMessage("message");
    AnyOlmMessage message = AnyOlmMessage.fromBase64(arg.type(), arg.body());
    // The protocol returns invalid UTF-8 with replacement characters, as the other peers do.
    String plaintext = new String(session.decryptBytes(message), StandardCharsets.UTF_8);
    ObjectNode result = PeerDriver.object();
    result.put("plaintext", plaintext);
    return result;
  }

  private ObjectNode sessionId(Args args) {
    ObjectNode result = PeerDriver.object();
    result.put("session_id", session(args).sessionId());
    return result;
  }

  private ObjectNode matchesInbound(Args args) {
    Session session = session(args);
    ObjectNode result = PeerDriver.object();
    result.put("matches", session.matchesInboundSession(preKeyMessage(args)));
    return result;
  }

  private static PreKeyMessage preKeyMessage(Args args) {
    Args.OlmMessageArg arg = args.olmMessage("message");
    if (arg.type() != Args.OlmMessageArg.PRE_KEY) {
      throw new PeerException(ErrorKinds.BAD_REQUEST, "message must be a pre-key message (type 0)");
    }
    return PreKeyMessage.fromBase64(arg.body());
  }
}
