package io.github.mxe2ee.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.mxe2ee.crypto.Ed25519SecretKey;
import org.junit.jupiter.api.Test;

class CrossSigningTest {
  private final TestKeys.Identity alice = TestKeys.identity("@alice:localhost");
  private final TestKeys.Identity bob = TestKeys.identity("@bob:localhost");

  @Test
  void identity_acceptsAChainSignedByTheMasterKey() {
    UserIdentity id = alice.parsed(true);
    assertEquals("@alice:localhost", id.userId());
    assertEquals(alice.master().publicKey(), id.master().publicKey());
    assertEquals("ed25519:" + alice.self().publicKey().toBase64(), id.selfSigning().keyId());
  }

  @Test
  void identity_rejectsKeysNotSignedByMasterOrWithWrongUsageOrOwner() {
    CrossSigningKey master = CrossSigningKey.parse(alice.masterJson());
    Ed25519SecretKey stranger = Ed25519SecretKey.generate(TestKeys.RANDOM);
    CrossSigningKey forged =
        CrossSigningKey.parse(
            TestKeys.crossSigningKey("@alice:localhost", "self_signing", alice.self(), stranger));
    assertThrows(DeviceKeysException.class, () -> UserIdentity.of(master, forged, null));
    CrossSigningKey wrongUsage =
        CrossSigningKey.parse(
            TestKeys.crossSigningKey(
                "@alice:localhost", "user_signing", alice.self(), alice.master()));
    assertThrows(DeviceKeysException.class, () -> UserIdentity.of(master, wrongUsage, null));
    CrossSigningKey bobs = CrossSigningKey.parse(bob.selfJson());
    assertThrows(DeviceKeysException.class, () -> UserIdentity.of(master, bobs, null));
    CrossSigningKey notMaster = CrossSigningKey.parse(alice.selfJson());
    assertThrows(
        DeviceKeysException.class,
        () -> UserIdentity.of(notMaster, CrossSigningKey.parse(alice.selfJson()), null));
  }

  @Test
  void crossSigningKey_parseRejectsMalformedObjects() {
    ObjectNode twoKeys = alice.masterJson();
    ((ObjectNode) twoKeys.get("keys")).put("ed25519:x", "x");
    assertThrows(DeviceKeysException.class, () -> CrossSigningKey.parse(twoKeys));
    ObjectNode badId = alice.masterJson();
    badId.putObject("keys").put("ed25519:notthekey", alice.master().publicKey().toBase64());
    assertThrows(DeviceKeysException.class, () -> CrossSigningKey.parse(badId));
    ObjectNode noUsage = alice.masterJson();
    noUsage.putArray("usage").add("something_else");
    assertThrows(DeviceKeysException.class, () -> CrossSigningKey.parse(noUsage));
  }

  @Test
  void trust_followsTheSpecChain() {
    UserIdentity aliceId = alice.parsed(true);
    TestKeys.Device signed = TestKeys.device("@alice:localhost", "SIGNED");
    alice.crossSign(signed);
    TestKeys.Device unsigned = TestKeys.device("@alice:localhost", "UNSIGNED");

    assertEquals(
        DeviceTrust.CROSS_SIGNED_VERIFIED,
        DeviceTrust.of(signed.keys(), LocalTrust.UNSET, aliceId, true));
    assertEquals(
        DeviceTrust.CROSS_SIGNED, DeviceTrust.of(signed.keys(), LocalTrust.UNSET, aliceId, false));
    assertEquals(
        DeviceTrust.UNVERIFIED, DeviceTrust.of(unsigned.keys(), LocalTrust.UNSET, aliceId, true));
    assertEquals(
        DeviceTrust.VERIFIED_LOCALLY,
        DeviceTrust.of(unsigned.keys(), LocalTrust.VERIFIED, aliceId, false));
    assertEquals(
        DeviceTrust.BLACKLISTED,
        DeviceTrust.of(signed.keys(), LocalTrust.BLACKLISTED, aliceId, true));
    assertEquals(
        DeviceTrust.UNVERIFIED, DeviceTrust.of(signed.keys(), LocalTrust.UNSET, null, true));

    TestKeys.Device bobDevice = TestKeys.device("@bob:localhost", "BOBDEV");
    bob.crossSign(bobDevice);
    assertFalse(aliceId.hasSigned(bobDevice.keys()), "alice's SSK must not vouch for bob's device");
  }

  @Test
  void userSigningKey_verifiesAnotherUsersMaster() {
    UserIdentity aliceId = alice.parsed(true);
    ObjectNode bobMasterSigned = alice.signMasterOf(bob);
    UserIdentity bobId =
        UserIdentity.of(
            CrossSigningKey.parse(bobMasterSigned), CrossSigningKey.parse(bob.selfJson()), null);
    assertTrue(aliceId.hasSigned(bobId));
    assertFalse(aliceId.hasSigned(bob.parsed(false)));
    assertFalse(alice.parsed(false).hasSigned(bobId), "no user-signing key, no verification");
    assertNull(bobId.userSigning());
  }

  @Test
  void sharingStrategy_allowsAndNamesWithheldCodes() {
    assertTrue(SharingStrategy.ALL_DEVICES.allows(DeviceTrust.UNVERIFIED));
    assertEquals(
        "m.blacklisted", SharingStrategy.ALL_DEVICES.withheldCode(DeviceTrust.BLACKLISTED));
    assertTrue(SharingStrategy.CROSS_SIGNED_ONLY.allows(DeviceTrust.CROSS_SIGNED));
    assertEquals(
        "m.unverified", SharingStrategy.CROSS_SIGNED_ONLY.withheldCode(DeviceTrust.UNVERIFIED));
    assertFalse(SharingStrategy.VERIFIED_ONLY.allows(DeviceTrust.CROSS_SIGNED));
    assertTrue(SharingStrategy.VERIFIED_ONLY.allows(DeviceTrust.CROSS_SIGNED_VERIFIED));
    assertNull(SharingStrategy.VERIFIED_ONLY.withheldCode(DeviceTrust.VERIFIED_LOCALLY));
  }
}
