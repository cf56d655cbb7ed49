/**
 * Micrometer metrics of the plugin ({@link io.github.mxe2ee.plugin.metrics.Mxe2eeMetrics}); the
 * meter names, tags and meanings are documented in {@code docs/METRICS.md}. Core reports through
 * the plain {@link io.github.mxe2ee.machine.MachineObserver} callback and never depends on
 * Micrometer.
 */
package io.github.mxe2ee.plugin.metrics;
