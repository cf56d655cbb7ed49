package io.github.mxe2ee.interop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.megolm.DecryptedMessage;
import io.github.mxe2ee.megolm.ExportedSessionKey;
import io.github.mxe2ee.megolm.InboundGroupSession;
import io.github.mxe2ee.megolm.MegolmDecodeException;
import io.github.mxe2ee.megolm.MegolmDecryptionException;
import io.github.mxe2ee.megolm.MegolmMessage;
import io.github.mxe2ee.megolm.OutboundGroupSession;
import io.github.mxe2ee.megolm.SessionKey;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The {@code group.*} operations of the interop protocol over mxe2ee's {@link OutboundGroupSession}
 * and {@link InboundGroupSession} ({@code shared/spec/matrix-spec/content/olm-megolm/megolm.md}),
 * their pickling, and the mapping of Megolm failures to error kinds.
 */
final class MegolmOperations {
  private final PeerDriver driver;
  private final Handles handles;

  private MegolmOperations(PeerDriver driver) {
    this.driver = driver;
    this.handles = driver.handles();
  }

  static void register(PeerDriver driver) {
    MegolmOperations ops = new MegolmOperations(driver);
    driver.register("group.create_outbound", ops::createOutbound);
    driver.register("group.encrypt", ops::encrypt);
    driver.register("group.session_key", ops::sessionKey);
    driver.register("group.message_index", ops::messageIndex);
    driver.register("group.session_id", ops::sessionId);
    driver.register("group.create_inbound", ops::createInbound);
    driver.register("group.import_exported", ops::importExported);
    driver.register("group.first_known_index", ops::firstKnownIndex);
    driver.register("group.decrypt", ops::decrypt);
    driver.register("group.export", ops::export);
    driver.addPickler(
        Handles.GROUP_OUTBOUND,
        Pickler.of(
            OutboundGroupSession.class,
            OutboundGroupSession::pickle,
            OutboundGroupSession::fromPickle,
            OutboundGroupSession::fromLibolmPickle));
    driver.addPickler(
        Handles.GROUP_INBOUND,
        Pickler.of(
            InboundGroupSession.class,
            InboundGroupSession::pickle,
            InboundGroupSession::fromPickle,
            InboundGroupSession::fromLibolmPickle));
    driver.addErrorMapper(MegolmOperations::mapError);
  }

  static PeerException mapError(RuntimeException e) {
    if (e instanceof MegolmDecryptionException megolm) {
      String kind =
          megolm.reason() == MegolmDecryptionException.Reason.UNKNOWN_MESSAGE_INDEX
              ? ErrorKinds.UNKNOWN_INDEX
              : ErrorKinds.CRYPTO;
      return new PeerException(kind, megolm.getMessage());
    }
    if (e instanceof MegolmDecodeException decode
        && decode.getMessage() != null
        && decode.getMessage().contains("signature does not verify")) {
      // The core reports a session key whose signature fails as malformed input; the protocol
      // classes every failed signature check as crypto.
      return new PeerException(ErrorKinds.CRYPTO, decode.getMessage());
    }
    return null;
  }

  private OutboundGroupSession outbound(Args args) {
    return handles.get(args.string("group"), Handles.GROUP_OUTBOUND, OutboundGroupSession.class);
  }

  private InboundGroupSession inbound(Args args) {
    return handles.get(args.string("group"), Handles.GROUP_INBOUND, InboundGroupSession.class);
  }

  private ObjectNode createOutbound(Args args) {
    OutboundGroupSession group = OutboundGroupSession.create(driver.random());
    ObjectNode result = PeerDriver.object();
    result.put("group", handles.add(Handles.GROUP_OUTBOUND, group));
    result.put("session_id", group.sessionId());
    result.put("session_key", group.sessionKey().toBase64());
    result.put("message_index", group.messageIndex());
    return result;
  }

  private ObjectNode encrypt(Args args) {
    OutboundGroupSession group = outbound(args);
    MegolmMessage message = group.encrypt(args.string("plaintext"));
    ObjectNode result = PeerDriver.object();
    result.put("ciphertext", message.toBase64());
    return result;
  }

  private ObjectNode sessionKey(Args args) {
    OutboundGroupSession group = outbound(args);
    ObjectNode result = PeerDriver.object();
    result.put("session_key", group.sessionKey().toBase64());
    result.put("message_index", group.messageIndex());
    return result;
  }

  private ObjectNode messageIndex(Args args) {
    ObjectNode result = PeerDriver.object();
    result.put("message_index", outbound(args).messageIndex());
    return result;
  }

  private ObjectNode sessionId(Args args) {
    String handle = args.string("group");
    Object group = handles.get(handle);
    String sessionId;
    if (group instanceof OutboundGroupSession outbound) {
      sessionId = outbound.sessionId();
    } else if (group instanceof InboundGroupSession inbound) {
      sessionId = inbound.sessionId();
    } else {
      throw new PeerException(
          ErrorKinds.UNKNOWN_HANDLE,
          "handle '" + handle + "' is of kind " + handles.kind(handle) + ", expected a group");
    }
    ObjectNode result = PeerDriver.object();
    result.put("session_id", sessionId);
    return result;
  }

  private ObjectNode inboundResult(InboundGroupSession group) {
    ObjectNode result = PeerDriver.object();
    result.put("group", handles.add(Handles.GROUP_INBOUND, group));
    result.put("session_id", group.sessionId());
    result.put("first_known_index", group.firstKnownIndex());
    return result;
  }

  private ObjectNode createInbound(Args args) {
    return inboundResult(
        InboundGroupSession.fromSessionKey(SessionKey.fromBase64(args.string("session_key"))));
  }

  private ObjectNode importExported(Args args) {
    return inboundResult(
        InboundGroupSession.fromExportedSessionKey(
            ExportedSessionKey.fromBase64(args.string("exported_key"))));
  }

  private ObjectNode firstKnownIndex(Args args) {
    ObjectNode result = PeerDriver.object();
    result.put("first_known_index", inbound(args).firstKnownIndex());
    return result;
  }

  private ObjectNode decrypt(Args args) {
    InboundGroupSession group = inbound(args);
    DecryptedMessage decrypted = group.decrypt(MegolmMessage.fromBase64(args.string("ciphertext")));
    ObjectNode result = PeerDriver.object();
    result.put("plaintext", new String(decrypted.plaintext(), StandardCharsets.UTF_8));
    result.put("message_index", decrypted.messageIndex());
    return result;
  }

  private ObjectNode export(Args args) {
    InboundGroupSession group = inbound(args);
    long index = args.unsigned32("index");
    Optional<ExportedSessionKey> exported = group.exportAt(index);
    if (exported.isEmpty()) {
      throw new PeerException(
          ErrorKinds.UNKNOWN_INDEX,
          "cannot export at index " + index + ", first known index is " + group.firstKnownIndex());
    }
    ObjectNode result = PeerDriver.object();
    result.put("exported_key", exported.get().toBase64());
    return result;
  }
}
