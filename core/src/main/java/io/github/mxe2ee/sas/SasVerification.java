package io.github.mxe2ee.sas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.CryptoException;
import io.github.mxe2ee.crypto.Curve25519PublicKey;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.crypto.Ed25519PublicKey;
import io.github.mxe2ee.crypto.UnpaddedBase64;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One to-device SAS verification with one other device, identified by its transaction id (the flow
 * id): the state machine of the spec's "Key verification framework" and "Short Authentication
 * String (SAS) verification" ({@code m.sas.v1}, key agreement {@code curve25519-hkdf-sha256}, hash
 * {@code sha256}, MAC {@code hkdf-hmac-sha256.v2} or, only if the other side offers nothing else,
 * the deprecated {@code hkdf-hmac-sha256}; short authentication strings {@code decimal} and {@code
 * emoji}). It either starts ({@link #request}: request, ready, start) or answers ({@link
 * #fromRequest}, then {@link #accept()}; or {@link #fromStart} for the deprecated start without a
 * request).
 *
 * <p><b>Sans-I/O.</b> Incoming {@code m.key.verification.*} contents go in through {@link
 * #receive}; the messages to send come out of {@link #drainOutgoing()} as {@link
 * VerificationMessage}s. Anything unexpected or invalid cancels the flow with the spec's code (and
 * queues the {@code m.key.verification.cancel}); a cancel is never answered, so two devices cannot
 * loop on errors.
 *
 * <p><b>Outcome.</b> Once both short authentication strings are confirmed ({@link #confirm()}) and
 * the other side's MAC matched, {@link #verifiedKeys()} names the keys proved (the device's Ed25519
 * key, and the master key if the other side sent its MAC); the caller marks trust on those keys.
 *
 * <p><b>Time.</b> A flow is cancelled with {@code m.timeout} by {@link #checkTimeout} when it is
 * older than {@link #FLOW_TIMEOUT_MILLIS} or idle that long, and a received request that is not
 * accepted within {@link #REQUEST_PROMPT_MILLIS}; the clock is the context's.
 *
 * <p><b>Secrets.</b> The ephemeral private key and the shared secret live only in this object,
 * never in {@link #toString()}, logs or messages, and are dropped when the flow ends.
 *
 * <p>Not thread-safe: the machine's thread drives it. Not persisted: a restart ends every flow.
 */
public final class SasVerification {
  /** The method name of SAS in requests, ready and start messages. */
  public static final String METHOD = "m.sas.v1";

  /** The only key agreement protocol we speak (the deprecated {@code curve25519} is refused). */
  public static final String KEY_AGREEMENT = "curve25519-hkdf-sha256";

  /** The only hash. */
  public static final String HASH = "sha256";

  /** Spec, "Error and exception handling": a verification not complete in 10 minutes times out. */
  public static final long FLOW_TIMEOUT_MILLIS = 10 * 60 * 1000L;

  /**
   * Spec, "Key verification framework": the prompt for a received request is dismissed 2 minutes
   * after it arrives if nobody answers it.
   */
  public static final long REQUEST_PROMPT_MILLIS = 2 * 60 * 1000L;

  /** Spec, {@code m.key.verification.request}: a request more than 10 minutes old is ignored. */
  public static final long REQUEST_MAX_AGE_MILLIS = 10 * 60 * 1000L;

  /** Spec, {@code m.key.verification.request}: a request more than 5 minutes ahead is ignored. */
  public static final long REQUEST_MAX_FUTURE_MILLIS = 5 * 60 * 1000L;

  /**
   * A {@code m.key.verification.mac} names the keys it vouches for: a device key and a master key
   * are two; a few more leave room for other keys a client may add, while a flood is refused.
   */
  public static final int MAX_MAC_KEYS = 8;

  /** Longer ids than this are malformed (Matrix ids are at most 255 bytes). */
  static final int MAX_ID_CHARS = 255;

  static final String REQUEST = "m.key.verification.request";
  static final String READY = "m.key.verification.ready";
  static final String START = "m.key.verification.start";
  static final String ACCEPT = "m.key.verification.accept";
  static final String KEY = "m.key.verification.key";
  static final String MAC = "m.key.verification.mac";
  static final String DONE = "m.key.verification.done";
  static final String CANCEL = "m.key.verification.cancel";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final List<String> OUR_MACS =
      List.of(MacMethod.HKDF_HMAC_SHA256_V2.wireName(), MacMethod.HKDF_HMAC_SHA256.wireName());
  private static final List<String> OUR_SAS = List.of("decimal", "emoji");

  private final SasContext ctx;
  private final String flowId;
  private final String otherUserId;
  private String otherDeviceId;
  private final boolean weRequested;
  private final long createdAt;
  private long lastActivity;

  private SasState state;
  private final List<VerificationMessage> outbox = new ArrayList<>();

  /** The start that counts (ours or theirs), exactly as sent. */
  private ObjectNode startContent;

  private boolean weStarted;
  private MacMethod macMethod;
  private List<String> sasMethods = List.of();
  private String theirCommitment;
  private Curve25519SecretKey ephemeral;
  private Curve25519PublicKey theirKey;
  private byte[] sharedSecret;
  private byte[] sasBytes;
  private VerifiedKeys theirVerified;
  private boolean weConfirmed;
  private CancelInfo cancelInfo;

  /** The methods the other side's request offered (for a received request). */
  private List<String> offeredMethods = List.of();

  private SasVerification(
      SasContext ctx,
      String flowId,
      String otherUserId,
      String otherDeviceId,
      boolean weRequested,
      SasState state) {
    this.ctx = ctx;
    this.flowId = flowId;
    this.otherUserId = otherUserId;
    this.otherDeviceId = otherDeviceId;
    this.weRequested = weRequested;
    this.state = state;
    this.createdAt = ctx.now();
    this.lastActivity = createdAt;
  }

  // ------------------------------------------------------------------ creation

  /**
   * Starts a verification with one device: queues an {@code m.key.verification.request} offering
   * {@code m.sas.v1} with a fresh random transaction id. When the other device answers {@code
   * ready}, we send the {@code start}.
   */
  public static SasVerification request(SasContext ctx, String otherUserId, String otherDeviceId) {
    requireId(otherUserId, "otherUserId");
    requireId(otherDeviceId, "otherDeviceId");
    byte[] id = new byte[24];
    ctx.random().nextBytes(id);
    SasVerification v =
        new SasVerification(
            ctx,
            UnpaddedBase64.encodeUrlSafe(id),
            otherUserId,
            otherDeviceId,
            true,
            SasState.REQUESTED);
    ObjectNode content = v.content();
    content.put("from_device", ctx.deviceId());
    content.putArray("methods").add(METHOD);
    content.put("timestamp", ctx.now());
    v.send(REQUEST, content);
    return v;
  }

  /**
   * A verification the other side requested, waiting for {@link #accept()} (or {@link #cancel}).
   *
   * @param sender the sending user, from the to-device event
   * @param content the {@code m.key.verification.request} content
   * @return empty if the request must be ignored: malformed, or its {@code timestamp} more than
   *     {@link #REQUEST_MAX_AGE_MILLIS} old or {@link #REQUEST_MAX_FUTURE_MILLIS} ahead (spec)
   */
  public static Optional<SasVerification> fromRequest(
      SasContext ctx, String sender, ObjectNode content) {
    String txn = text(content, "transaction_id");
    String from = text(content, "from_device");
    JsonNode ts = content.get("timestamp");
    if (!validId(sender) || !validId(txn) || !validId(from) || !content.path("methods").isArray()) {
      return Optional.empty();
    }
    if (ts == null || !ts.canConvertToLong()) {
      return Optional.empty();
    }
    long age = ctx.now() - ts.asLong();
    if (age > REQUEST_MAX_AGE_MILLIS || -age > REQUEST_MAX_FUTURE_MILLIS) {
      return Optional.empty();
    }
    SasVerification v =
        new SasVerification(ctx, txn, sender, from, false, SasState.REQUEST_RECEIVED);
    List<String> offered = new ArrayList<>();
    content.get("methods").forEach(m -> offered.add(m.asText()));
    v.offeredMethods = List.copyOf(offered);
    return Optional.of(v);
  }

  /**
   * A verification the other side began with an {@code m.key.verification.start} and no request
   * (deprecated, but the spec says to handle it), waiting for {@link #accept()}. A start we cannot
   * handle produces a flow that is already cancelled, with its cancel queued.
   *
   * @return empty if the start is too malformed to answer (no transaction id or device)
   */
  public static Optional<SasVerification> fromStart(
      SasContext ctx, String sender, ObjectNode content) {
    String txn = text(content, "transaction_id");
    String from = text(content, "from_device");
    if (!validId(sender) || !validId(txn) || !validId(from)) {
      return Optional.empty();
    }
    SasVerification v = new SasVerification(ctx, txn, sender, from, false, SasState.START_RECEIVED);
    CancelCode problem = v.checkStart(content);
    if (problem != null) {
      v.cancelWith(problem);
    } else {
      v.startContent = content.deepCopy();
      v.weStarted = false;
    }
    return Optional.of(v);
  }

  // ------------------------------------------------------------------ user actions

  /**
   * Accepts what the other side asked for: a request (sends {@code ready} offering {@code
   * m.sas.v1}; cancels with {@code m.unknown_method} if the request did not offer it), or a start
   * received without a request (sends {@code accept}).
   *
   * @throws IllegalStateException in any other state
   */
  public void accept() {
    switch (state) {
      case REQUEST_RECEIVED -> {
        lastActivity = ctx.now();
        if (!offeredMethods.contains(METHOD)) {
          cancelWith(CancelCode.UNKNOWN_METHOD);
          return;
        }
        ObjectNode content = content();
        content.put("from_device", ctx.deviceId());
        content.putArray("methods").add(METHOD);
        state = SasState.READY;
        send(READY, content);
      }
      case START_RECEIVED -> acceptStart();
      default -> throw new IllegalStateException("accept() in state " + state);
    }
  }

  /**
   * Sends our {@code m.key.verification.start} in a {@link SasState#READY} flow. (When we
   * requested, the start is sent as soon as {@code ready} arrives; this is for flows the other side
   * requested and we want to drive.)
   *
   * @throws IllegalStateException if the flow is not ready
   */
  public void startSas() {
    if (state != SasState.READY) {
      throw new IllegalStateException("startSas() in state " + state);
    }
    sendStart();
  }

  /**
   * The user confirmed that both devices show the same short authentication string: sends our MAC
   * (over our device key and, if we have one, our master key); if the other side's MAC already
   * arrived and matched, the flow is verified and {@code done} is sent too.
   *
   * @throws IllegalStateException unless the SAS is being shown ({@link SasState#KEYS_EXCHANGED})
   */
  public void confirm() {
    if (state != SasState.KEYS_EXCHANGED) {
      throw new IllegalStateException("confirm() in state " + state);
    }
    lastActivity = ctx.now();
    weConfirmed = true;
    Map<String, String> keys = new TreeMap<>();
    keys.put("ed25519:" + ctx.deviceId(), ctx.ed25519().toBase64());
    ctx.keys().ownMasterKey().ifPresent(k -> keys.put("ed25519:" + k.toBase64(), k.toBase64()));
    ObjectNode content = content();
    ObjectNode macs = content.putObject("mac");
    for (Map.Entry<String, String> e : keys.entrySet()) {
      macs.put(e.getKey(), ourMac(e.getKey(), e.getValue()));
    }
    content.put("keys", ourMac("KEY_IDS", String.join(",", keys.keySet())));
    state = SasState.CONFIRMED;
    send(MAC, content);
    if (theirVerified != null) {
      sendDone();
    }
  }

  /** The user says the strings differ: cancels with {@code m.mismatched_sas}. */
  public void mismatch() {
    cancel(CancelCode.MISMATCHED_SAS);
  }

  /**
   * Cancels the flow with {@code code} and queues the {@code m.key.verification.cancel}. Does
   * nothing if the flow already ended.
   */
  public void cancel(CancelCode code) {
    Objects.requireNonNull(code, "code");
    if (!state.isFinal()) {
      cancelWith(code);
    }
  }

  /**
   * Cancels with {@code m.timeout} if the flow is older than {@link #FLOW_TIMEOUT_MILLIS}, idle for
   * that long, or a received request went unanswered for {@link #REQUEST_PROMPT_MILLIS}. A flow
   * waiting only for the other side's {@code done} is already verified: it ends as {@link
   * SasState#DONE} instead.
   *
   * @return true if the flow ended now
   */
  public boolean checkTimeout() {
    if (state.isFinal()) {
      return false;
    }
    long now = ctx.now();
    boolean expired =
        now - createdAt >= FLOW_TIMEOUT_MILLIS
            || now - lastActivity >= FLOW_TIMEOUT_MILLIS
            || (state == SasState.REQUEST_RECEIVED && now - createdAt >= REQUEST_PROMPT_MILLIS);
    if (!expired) {
      return false;
    }
    if (state == SasState.WAITING_FOR_DONE) {
      finish();
    } else {
      cancelWith(CancelCode.TIMEOUT);
    }
    return true;
  }

  // ------------------------------------------------------------------ incoming

  /**
   * Processes one incoming {@code m.key.verification.*} content of this flow. Invalid or unexpected
   * messages cancel the flow with the spec's code; messages after the flow ended are ignored.
   *
   * @param type the event type
   * @param sender the sending user (from the to-device event)
   * @param content the event content
   */
  public void receive(String type, String sender, ObjectNode content) {
    if (state.isFinal()) {
      return;
    }
    if (!otherUserId.equals(sender) || !flowId.equals(text(content, "transaction_id"))) {
      // Not ours: the registry routes by (sender, transaction id), so this is a caller error.
      throw new IllegalArgumentException("message of another flow");
    }
    lastActivity = ctx.now();
    switch (type) {
      case CANCEL -> onCancel(content);
      case READY -> onReady(content);
      case START -> onStart(content);
      case ACCEPT -> onAccept(content);
      case KEY -> onKey(content);
      case MAC -> onMac(content);
      case DONE -> onDone();
      case REQUEST -> cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      default -> {
        // Unknown verification events (other methods' messages) are not ours to judge.
      }
    }
  }

  private void onCancel(ObjectNode content) {
    String code = text(content, "code");
    cancelInfo = new CancelInfo(code == null ? "m.unknown" : code, text(content, "reason"), false);
    end(SasState.CANCELLED);
  }

  private void onReady(ObjectNode content) {
    if (state != SasState.REQUESTED) {
      cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      return;
    }
    if (!otherDeviceId.equals(text(content, "from_device")) || !content.path("methods").isArray()) {
      cancelWith(CancelCode.INVALID_MESSAGE);
      return;
    }
    if (!contains(content.get("methods"), METHOD)) {
      cancelWith(CancelCode.UNKNOWN_METHOD);
      return;
    }
    state = SasState.READY;
    sendStart();
  }

  private void onStart(ObjectNode content) {
    if (state != SasState.READY && state != SasState.STARTED) {
      cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      return;
    }
    if (!otherDeviceId.equals(text(content, "from_device"))) {
      cancelWith(CancelCode.INVALID_MESSAGE);
      return;
    }
    if (state == SasState.STARTED) {
      // Both sides started (spec, "Key verification framework"): different methods cancel; with
      // the same method the start of the lexicographically smaller user (then device) id counts.
      if (!METHOD.equals(text(content, "method"))) {
        cancelWith(CancelCode.UNEXPECTED_MESSAGE);
        return;
      }
      int byUser = ctx.userId().compareTo(otherUserId);
      boolean oursCounts =
          byUser < 0 || (byUser == 0 && ctx.deviceId().compareTo(otherDeviceId) < 0);
      if (oursCounts) {
        return;
      }
    }
    CancelCode problem = checkStart(content);
    if (problem != null) {
      cancelWith(problem);
      return;
    }
    startContent = content.deepCopy();
    weStarted = false;
    // The request was accepted already (ours, or our ready): the start is answered at once.
    acceptStart();
  }

  /** Why we cannot accept this start, or null. */
  private CancelCode checkStart(ObjectNode content) {
    if (!METHOD.equals(text(content, "method"))) {
      return CancelCode.UNKNOWN_METHOD;
    }
    for (String f :
        List.of(
            "key_agreement_protocols",
            "hashes",
            "message_authentication_codes",
            "short_authentication_string")) {
      if (!content.path(f).isArray()) {
        return CancelCode.INVALID_MESSAGE;
      }
    }
    if (!contains(content.get("key_agreement_protocols"), KEY_AGREEMENT)
        || !contains(content.get("hashes"), HASH)
        || chooseMac(content.get("message_authentication_codes")) == null
        || !contains(content.get("short_authentication_string"), "decimal")) {
      return CancelCode.UNKNOWN_METHOD;
    }
    return null;
  }

  private static MacMethod chooseMac(JsonNode offered) {
    for (MacMethod m : MacMethod.values()) {
      if (contains(offered, m.wireName())) {
        return m;
      }
    }
    return null;
  }

  private void acceptStart() {
    macMethod = chooseMac(startContent.get("message_authentication_codes"));
    List<String> sas = new ArrayList<>();
    for (String s : OUR_SAS) {
      if (contains(startContent.get("short_authentication_string"), s)) {
        sas.add(s);
      }
    }
    sasMethods = List.copyOf(sas);
    ephemeral = Curve25519SecretKey.generate(ctx.random());
    ObjectNode content = content();
    content.put("method", METHOD);
    content.put("key_agreement_protocol", KEY_AGREEMENT);
    content.put("hash", HASH);
    content.put("message_authentication_code", macMethod.wireName());
    ArrayNode sasArray = content.putArray("short_authentication_string");
    sasMethods.forEach(sasArray::add);
    content.put("commitment", SasCrypto.commitment(ephemeral.publicKey().toBase64(), startContent));
    state = SasState.ACCEPTED;
    send(ACCEPT, content);
  }

  private void onAccept(ObjectNode content) {
    if (state != SasState.STARTED) {
      cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      return;
    }
    String agreement = text(content, "key_agreement_protocol");
    String hash = text(content, "hash");
    Optional<MacMethod> mac = MacMethod.fromWire(text(content, "message_authentication_code"));
    JsonNode sas = content.get("short_authentication_string");
    String commitment = text(content, "commitment");
    if (commitment == null || sas == null || !sas.isArray()) {
      cancelWith(CancelCode.INVALID_MESSAGE);
      return;
    }
    List<String> chosenSas = new ArrayList<>();
    for (JsonNode s : sas) {
      if (!s.isTextual() || !OUR_SAS.contains(s.asText())) {
        cancelWith(CancelCode.UNKNOWN_METHOD);
        return;
      }
      chosenSas.add(s.asText());
    }
    if (!KEY_AGREEMENT.equals(agreement)
        || !HASH.equals(hash)
        || mac.isEmpty()
        || chosenSas.isEmpty()) {
      cancelWith(CancelCode.UNKNOWN_METHOD);
      return;
    }
    macMethod = mac.get();
    sasMethods = List.copyOf(chosenSas);
    theirCommitment = commitment;
    ephemeral = Curve25519SecretKey.generate(ctx.random());
    ObjectNode key = content();
    key.put("key", ephemeral.publicKey().toBase64());
    state = SasState.ACCEPTED;
    send(KEY, key);
  }

  private void onKey(ObjectNode content) {
    if (state != SasState.ACCEPTED || theirKey != null) {
      cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      return;
    }
    String keyText = text(content, "key");
    Curve25519PublicKey key;
    try {
      key = Curve25519PublicKey.fromBase64(keyText == null ? "" : keyText);
    } catch (DecodeException e) {
      cancelWith(CancelCode.INVALID_MESSAGE);
      return;
    }
    if (weStarted) {
      // Spec step 11: the key must be the one committed to, together with our start content.
      String expected = SasCrypto.commitment(keyText, startContent);
      if (!SasCrypto.macEquals(expected, theirCommitment)) {
        cancelWith(CancelCode.MISMATCHED_COMMITMENT);
        return;
      }
    }
    try {
      sharedSecret = ephemeral.diffieHellman(key);
    } catch (CryptoException e) {
      cancelWith(CancelCode.KEY_MISMATCH);
      return;
    }
    theirKey = key;
    if (!weStarted) {
      ObjectNode ours = content();
      ours.put("key", ephemeral.publicKey().toBase64());
      send(KEY, ours);
    }
    String ourKey = ephemeral.publicKey().toBase64();
    String info =
        weStarted
            ? SasCrypto.sasInfo(
                ctx.userId(), ctx.deviceId(), ourKey, otherUserId, otherDeviceId, keyText, flowId)
            : SasCrypto.sasInfo(
                otherUserId, otherDeviceId, keyText, ctx.userId(), ctx.deviceId(), ourKey, flowId);
    sasBytes = SasCrypto.sasBytes(sharedSecret, info, SasCrypto.EMOJI_BYTES);
    state = SasState.KEYS_EXCHANGED;
  }

  private void onMac(ObjectNode content) {
    if ((state != SasState.KEYS_EXCHANGED && state != SasState.CONFIRMED)
        || theirVerified != null) {
      cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      return;
    }
    JsonNode macs = content.get("mac");
    String keysMac = text(content, "keys");
    if (macs == null || !macs.isObject() || keysMac == null || macs.isEmpty()) {
      cancelWith(CancelCode.INVALID_MESSAGE);
      return;
    }
    if (macs.size() > MAX_MAC_KEYS) {
      cancelWith(CancelCode.INVALID_MESSAGE);
      return;
    }
    List<String> ids = new ArrayList<>();
    macs.fieldNames().forEachRemaining(ids::add);
    ids.sort(null);
    if (!SasCrypto.macEquals(theirMac("KEY_IDS", String.join(",", ids)), keysMac)) {
      cancelWith(CancelCode.KEY_MISMATCH);
      return;
    }
    Ed25519PublicKey device = null;
    Ed25519PublicKey master = null;
    Optional<Ed25519PublicKey> knownDevice = ctx.keys().deviceKey(otherUserId, otherDeviceId);
    Optional<Ed25519PublicKey> knownMaster = ctx.keys().masterKey(otherUserId);
    for (String id : ids) {
      JsonNode value = macs.get(id);
      if (!value.isTextual()) {
        cancelWith(CancelCode.INVALID_MESSAGE);
        return;
      }
      Ed25519PublicKey key = null;
      boolean isDevice = id.equals("ed25519:" + otherDeviceId);
      if (isDevice) {
        key = knownDevice.orElse(null);
      } else if (knownMaster.isPresent() && id.equals("ed25519:" + knownMaster.get().toBase64())) {
        key = knownMaster.get();
      }
      if (key == null) {
        // A key we do not know (another cross-signing key, an unknown device): nothing to verify.
        continue;
      }
      if (!SasCrypto.macEquals(theirMac(id, key.toBase64()), value.asText())) {
        cancelWith(CancelCode.KEY_MISMATCH);
        return;
      }
      if (isDevice) {
        device = key;
      } else {
        master = key;
      }
    }
    if (device == null && master == null) {
      cancelWith(CancelCode.KEY_MISMATCH);
      return;
    }
    theirVerified = new VerifiedKeys(otherUserId, otherDeviceId, device, master);
    if (weConfirmed) {
      sendDone();
    }
  }

  private void onDone() {
    if (state != SasState.WAITING_FOR_DONE) {
      cancelWith(CancelCode.UNEXPECTED_MESSAGE);
      return;
    }
    finish();
  }

  // ------------------------------------------------------------------ views

  /** The flow id: the {@code transaction_id} of every message. */
  public String flowId() {
    return flowId;
  }

  /** The other user. */
  public String otherUserId() {
    return otherUserId;
  }

  /** The other device. */
  public String otherDeviceId() {
    return otherDeviceId;
  }

  /** True if we sent the request (or, for a request-less flow, false). */
  public boolean weRequested() {
    return weRequested;
  }

  /** True if the {@code start} that counts is ours (meaningful from {@link SasState#ACCEPTED}). */
  public boolean weStarted() {
    return weStarted;
  }

  /** Where the flow stands. */
  public SasState state() {
    return state;
  }

  /** The MAC method agreed, once a start was accepted. */
  public Optional<MacMethod> macMethod() {
    return Optional.ofNullable(macMethod);
  }

  /**
   * The seven emoji to compare, once the keys are exchanged and if both sides agreed on {@code
   * emoji}; empty otherwise (and after the flow ended).
   */
  public Optional<List<SasEmoji>> emoji() {
    if (sasBytes == null || !sasMethods.contains("emoji")) {
      return Optional.empty();
    }
    List<SasEmoji> out = new ArrayList<>();
    for (int i : SasCrypto.emojiIndices(sasBytes)) {
      out.add(SasEmoji.of(i));
    }
    return Optional.of(List.copyOf(out));
  }

  /**
   * The three numbers (1000 to 9191) to compare, once the keys are exchanged; empty otherwise (and
   * after the flow ended).
   */
  public Optional<int[]> decimals() {
    return sasBytes == null ? Optional.empty() : Optional.of(SasCrypto.decimals(sasBytes));
  }

  /**
   * The other side's keys this verification proved: present once both sides' MACs matched and we
   * confirmed ({@link SasState#WAITING_FOR_DONE} and {@link SasState#DONE}).
   */
  public Optional<VerifiedKeys> verifiedKeys() {
    return (state == SasState.WAITING_FOR_DONE || state == SasState.DONE)
        ? Optional.ofNullable(theirVerified)
        : Optional.empty();
  }

  /** Why the flow was cancelled, once it was. */
  public Optional<CancelInfo> cancelInfo() {
    return Optional.ofNullable(cancelInfo);
  }

  /** Takes the messages queued since the last call, in order. */
  public List<VerificationMessage> drainOutgoing() {
    List<VerificationMessage> out = List.copyOf(outbox);
    outbox.clear();
    return out;
  }

  boolean hasOutgoing() {
    return !outbox.isEmpty();
  }

  /** When the flow was created, by the context's clock (ms since the epoch). */
  public long createdAt() {
    return createdAt;
  }

  /** When the flow last sent or received a message (ms since the epoch). */
  public long lastActivity() {
    return lastActivity;
  }

  /** Ids and state only: no key material. */
  @Override
  public String toString() {
    return "SasVerification["
        + flowId
        + " with "
        + otherUserId
        + "/"
        + otherDeviceId
        + " "
        + state
        + "]";
  }

  // ------------------------------------------------------------------ internals

  private void sendStart() {
    ObjectNode content = content();
    content.put("from_device", ctx.deviceId());
    content.put("method", METHOD);
    content.putArray("key_agreement_protocols").add(KEY_AGREEMENT);
    content.putArray("hashes").add(HASH);
    ArrayNode macs = content.putArray("message_authentication_codes");
    OUR_MACS.forEach(macs::add);
    ArrayNode sas = content.putArray("short_authentication_string");
    OUR_SAS.forEach(sas::add);
    startContent = content.deepCopy();
    weStarted = true;
    state = SasState.STARTED;
    send(START, content);
  }

  private void sendDone() {
    state = SasState.WAITING_FOR_DONE;
    send(DONE, content());
  }

  private void finish() {
    end(SasState.DONE);
  }

  private String ourMac(String keyId, String input) {
    return SasCrypto.mac(
        macMethod,
        sharedSecret,
        SasCrypto.macInfo(ctx.userId(), ctx.deviceId(), otherUserId, otherDeviceId, flowId, keyId),
        input);
  }

  private String theirMac(String keyId, String input) {
    return SasCrypto.mac(
        macMethod,
        sharedSecret,
        SasCrypto.macInfo(otherUserId, otherDeviceId, ctx.userId(), ctx.deviceId(), flowId, keyId),
        input);
  }

  private void cancelWith(CancelCode code) {
    cancelInfo = new CancelInfo(code.wireName(), code.reason(), true);
    ObjectNode content = content();
    content.put("code", code.wireName());
    content.put("reason", code.reason());
    send(CANCEL, content);
    end(SasState.CANCELLED);
  }

  /** Ends the flow and drops the secrets. */
  private void end(SasState finalState) {
    state = finalState;
    ephemeral = null;
    if (sharedSecret != null) {
      Arrays.fill(sharedSecret, (byte) 0);
      sharedSecret = null;
    }
    sasBytes = null;
  }

  private ObjectNode content() {
    ObjectNode content = MAPPER.createObjectNode();
    content.put("transaction_id", flowId);
    return content;
  }

  private void send(String type, ObjectNode content) {
    lastActivity = ctx.now();
    outbox.add(new VerificationMessage(otherUserId, otherDeviceId, type, content));
  }

  static String text(JsonNode content, String field) {
    JsonNode n = content == null ? null : content.get(field);
    return n != null && n.isTextual() ? n.asText() : null;
  }

  private static boolean contains(JsonNode array, String value) {
    if (array == null || !array.isArray()) {
      return false;
    }
    for (JsonNode n : array) {
      if (n.isTextual() && n.asText().equals(value)) {
        return true;
      }
    }
    return false;
  }

  static boolean validId(String id) {
    return id != null && !id.isEmpty() && id.length() <= MAX_ID_CHARS;
  }

  private static void requireId(String id, String what) {
    if (!validId(id)) {
      throw new IllegalArgumentException(what + ": expected 1.." + MAX_ID_CHARS + " characters");
    }
  }
}
