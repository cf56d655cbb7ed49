/**
 * The example bridge (issue 15): Matrix portal rooms, end-to-end encrypted, bridged to a small
 * "remote network" that the example serves over HTTP on 127.0.0.1 ({@link
 * io.github.mxe2ee.examples.bridge.RemoteApi}), so that people and tests can play the remote side.
 *
 * <p>Each portal is one encrypted Matrix room created by the bridge bot; each remote user speaks in
 * it through a ghost ({@code @bridge_remote_...:server}, {@link
 * io.github.mxe2ee.examples.bridge.GhostNames}) whose messages are encrypted with the ghost's own
 * device; what Matrix users say there is decrypted from the appservice transactions and kept for
 * the remote side ({@link io.github.mxe2ee.examples.bridge.PortalStore}). Run it with {@code bash
 * scripts/bridge.sh}; docs/BRIDGES.md describes it.
 */
package io.github.mxe2ee.examples.bridge;
