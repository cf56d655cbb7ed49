package io.github.mxe2ee.machine;

/**
 * What {@link OlmMachine#importRoomKeys} did.
 *
 * @param total keys offered
 * @param imported keys stored: new sessions, or copies that decrypt from an earlier index than the
 *     one held; the others were no better than what the machine had, or claimed a session already
 *     bound to another device's keys
 */
public record RoomKeyImportResult(int total, int imported) {
  /** Keys not stored. */
  public int skipped() {
    return total - imported;
  }
}
