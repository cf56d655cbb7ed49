/**
 * Event bus mode: {@link io.github.mxe2ee.plugin.bus.Mxe2eeVerticle} runs the plugin and its sync
 * loop and talks to bots over the documented addresses of {@link
 * io.github.mxe2ee.plugin.bus.BusAddresses} (docs/EVENT_BUS.md).
 */
package io.github.mxe2ee.plugin.bus;
