package io.github.mxe2ee.device;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Curve25519SecretKey;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import io.github.mxe2ee.json.JsonSigning;
import java.security.SecureRandom;

/** Builds real, signed device and cross-signing key objects for tests. */
final class TestKeys {
  static final ObjectMapper MAPPER = new ObjectMapper();
  static final SecureRandom RANDOM = new SecureRandom();

  private TestKeys() {}

  /** A device with fresh keys; {@code signing} is its Ed25519 key. */
  record Device(String userId, String deviceId, Ed25519SecretKey signing, ObjectNode json) {
    DeviceKeys keys() {
      return DeviceKeys.parse(json);
    }
  }

  static Device device(String userId, String deviceId) {
    Ed25519SecretKey ed = Ed25519SecretKey.generate(RANDOM);
    Curve25519SecretKey curve = Curve25519SecretKey.generate(RANDOM);
    ObjectNode json = MAPPER.createObjectNode();
    json.put("user_id", userId).put("device_id", deviceId);
    json.putArray("algorithms").add("m.olm.v1.curve25519-aes-sha2").add("m.megolm.v1.aes-sha2");
    ObjectNode keys = json.putObject("keys");
    keys.put("curve25519:" + deviceId, curve.publicKey().toBase64());
    keys.put("ed25519:" + deviceId, ed.publicKey().toBase64());
    JsonSigning.sign(json, userId, "ed25519:" + deviceId, ed);
    json.putObject("unsigned").put("device_display_name", "test device");
    return new Device(userId, deviceId, ed, json);
  }

  /** A cross-signing key object for {@code key}, signed by {@code signer} if not null. */
  static ObjectNode crossSigningKey(
      String userId, String usage, Ed25519SecretKey key, Ed25519SecretKey signer) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("user_id", userId);
    json.putArray("usage").add(usage);
    String b64 = key.publicKey().toBase64();
    json.putObject("keys").put("ed25519:" + b64, b64);
    if (signer != null) {
      JsonSigning.sign(json, userId, "ed25519:" + signer.publicKey().toBase64(), signer);
    }
    return json;
  }

  /** A full identity with private keys. */
  record Identity(
      String userId, Ed25519SecretKey master, Ed25519SecretKey self, Ed25519SecretKey user) {
    ObjectNode masterJson() {
      return crossSigningKey(userId, "master", master, null);
    }

    ObjectNode selfJson() {
      return crossSigningKey(userId, "self_signing", self, master);
    }

    ObjectNode userJson() {
      return crossSigningKey(userId, "user_signing", user, master);
    }

    UserIdentity parsed(boolean withUserSigning) {
      return UserIdentity.of(
          CrossSigningKey.parse(masterJson()),
          CrossSigningKey.parse(selfJson()),
          withUserSigning ? CrossSigningKey.parse(userJson()) : null);
    }

    /** Signs {@code device}'s JSON with the self-signing key, in place. */
    void crossSign(Device device) {
      JsonSigning.sign(device.json(), userId, "ed25519:" + self.publicKey().toBase64(), self);
    }

    /** Returns {@code other}'s master key JSON signed by our user-signing key. */
    ObjectNode signMasterOf(Identity other) {
      ObjectNode json = other.masterJson();
      JsonSigning.sign(json, userId, "ed25519:" + user.publicKey().toBase64(), user);
      return json;
    }
  }

  static Identity identity(String userId) {
    return new Identity(
        userId,
        Ed25519SecretKey.generate(RANDOM),
        Ed25519SecretKey.generate(RANDOM),
        Ed25519SecretKey.generate(RANDOM));
  }
}
