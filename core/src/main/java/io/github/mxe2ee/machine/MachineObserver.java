package io.github.mxe2ee.machine;

/**
 * A plain callback through which an {@link OlmMachine} reports what it did, for metrics (the
 * plugin's Micrometer binder implements it; core itself depends on no metrics library). Set it with
 * {@link OlmMachine#setObserver}.
 *
 * <p><b>When.</b> Every method is called on the machine's thread, after the store save of the step
 * the event belongs to: activity ({@link #roomKeysShared}, {@link #withheldSent}, {@link
 * #keyRequestAnswered}, {@link #keyRequestRefused}) is reported only for steps whose changes were
 * saved; a failed step's activity is dropped with its changes. {@link #stepSaved} is reported for
 * every step, failed or not.
 *
 * <p><b>Contract for implementations.</b> Be fast and never block (the machine waits for the call);
 * a {@link RuntimeException} thrown from here is logged and ignored, never propagated into the
 * machine. Arguments carry ids and codes only, never keys or plaintext.
 */
public interface MachineObserver {

  /** Observes nothing. */
  MachineObserver NONE = new MachineObserver() {};

  /**
   * One step's atomic {@code store.save(changes)} ended.
   *
   * @param nanos how long the save took
   * @param succeeded false if the save (or the step before it) threw; the step's changes were then
   *     dropped
   * @param stats the machine's bound counters after the step (a snapshot, safe to hand to another
   *     thread)
   */
  default void stepSaved(long nanos, boolean succeeded, MachineStats stats) {}

  /**
   * The homeserver accepted the to-device messages that carry a room's Megolm session key ({@code
   * m.room_key}, Olm-encrypted) to {@code devices} devices.
   */
  default void roomKeysShared(String roomId, int devices) {}

  /**
   * {@code m.room_key.withheld} messages were queued for {@code devices} devices with {@code code}
   * (such as {@code m.unverified}; spec "Reporting that decryption keys are withheld"), either
   * while sharing a room key or in answer to a key request.
   */
  default void withheldSent(String code, int devices) {}

  /**
   * A key request ({@code m.room_key_request}) from one of our own verified devices was answered.
   */
  default void keyRequestAnswered(String userId, String deviceId) {}

  /**
   * A key request was refused with an {@code m.room_key.withheld} of {@code code} ({@code
   * m.unauthorised}, {@code m.unverified}, {@code m.blacklisted} or {@code m.unavailable}).
   */
  default void keyRequestRefused(String code) {}
}
