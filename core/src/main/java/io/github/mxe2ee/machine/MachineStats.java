package io.github.mxe2ee.machine;

/**
 * How often the machine's bounds ({@link MachineLimits}) bit, and what it dropped, since the
 * machine was opened: a snapshot from {@link OlmMachine#stats()}. Counters only grow; they live in
 * memory and start at zero with each machine. Each step that bumps one also logs a single {@code
 * WARNING} with the step's counts (never ids of keys or content).
 *
 * @param keyRequestRepliesDropped incoming key requests left unanswered because a reply limit (per
 *     device, per user or overall) was reached
 * @param malformedIdsDropped key requests, withheld notices and devices dropped for an absent or
 *     over-long id ({@link MachineLimits#MAX_ID_LENGTH})
 * @param withheldPruned stored withheld records deleted to stay within the withheld caps
 * @param olmPayloadsRejected Olm messages that decrypted but whose payload failed the spec's checks
 *     (nothing from them was stored)
 * @param olmSessionsRefused pre-key messages refused because their sender reached the hourly cap on
 *     new sessions
 * @param unwedgesRefused wedged channels not replaced because the hourly overall cap was reached
 * @param keyRequestsNotQueued undecryptable sessions not requested because {@link
 *     MachineLimits#MAX_OPEN_KEY_REQUESTS} requests were open
 * @param devicesRefused devices of a {@code /keys/query} answer refused over {@link
 *     MachineLimits#maxDevicesPerUser()}
 * @param duplicatesIgnored events that repeated one already handled in the same step
 * @param eventsFailed events whose side effects failed unexpectedly: reported, their changes
 *     dropped, the rest of the step went on
 */
public record MachineStats(
    long keyRequestRepliesDropped,
    long malformedIdsDropped,
    long withheldPruned,
    long olmPayloadsRejected,
    long olmSessionsRefused,
    long unwedgesRefused,
    long keyRequestsNotQueued,
    long devicesRefused,
    long duplicatesIgnored,
    long eventsFailed) {}
