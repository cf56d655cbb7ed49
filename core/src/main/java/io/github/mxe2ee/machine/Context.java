package io.github.mxe2ee.machine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.DecodeException;
import io.github.mxe2ee.store.CryptoStore;
import io.github.mxe2ee.store.EncryptedPickle;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every part of the machine shares: configuration, the store, and helpers for JSON, time and
 * ids. Package-private; one per machine; used from the machine's thread only.
 */
final class Context {
  static final ObjectMapper MAPPER = new ObjectMapper();

  final MachineConfig config;
  final CryptoStore store;
  final MachineLimits limits;

  /** How often the bounds bit; outlives reloads after a failed step. */
  final BoundCounters counters = new BoundCounters();

  /** Observer calls of the step in progress, delivered after its save. */
  final StepEvents events = new StepEvents();

  /** See {@link OlmMachine#setKeyRequestDelay}; outlives reloads. */
  long keyRequestDelayMs;

  private final byte[] pickleKey;
  private final AtomicLong requestCounter = new AtomicLong();
  private final String requestPrefix;

  Context(MachineConfig config, CryptoStore store) {
    this.config = config;
    this.store = store;
    this.limits = config.limits();
    this.pickleKey = config.pickleKey();
    byte[] nonce = new byte[6];
    config.random().nextBytes(nonce);
    this.requestPrefix = io.github.mxe2ee.crypto.UnpaddedBase64.encodeUrlSafe(nonce);
  }

  String userId() {
    return config.userId();
  }

  String deviceId() {
    return config.deviceId();
  }

  long now() {
    return config.clock().millis();
  }

  byte[] pickleKey() {
    return pickleKey;
  }

  EncryptedPickle seal(String pickle) {
    return new EncryptedPickle(pickle);
  }

  /** A fresh request id, unique within this process and across restarts in practice. */
  String newRequestId() {
    return "mxe2ee-" + requestPrefix + "-" + requestCounter.incrementAndGet();
  }

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /**
   * Parses a JSON object with {@link io.github.mxe2ee.json.JsonLimits#MAPPER}: decrypted Olm and
   * Megolm plaintexts come from remote senders, so depth, string and document length are bounded.
   *
   * @throws DecodeException if it is not a JSON object or breaks a bound
   */
  static ObjectNode parseObject(String json) {
    try {
      JsonNode node = io.github.mxe2ee.json.JsonLimits.MAPPER.readTree(json);
      if (node == null || !node.isObject()) {
        throw new DecodeException("expected a JSON object");
      }
      return (ObjectNode) node;
    } catch (IOException e) {
      throw new DecodeException("malformed JSON", e);
    }
  }
}
