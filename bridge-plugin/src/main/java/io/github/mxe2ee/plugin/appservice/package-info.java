/**
 * Bridge mode (ARCHITECTURE.md, "bridge-plugin"; docs/BRIDGES.md, "The plugin API"): an encrypted
 * Matrix application service. {@link io.github.mxe2ee.plugin.appservice.AppserviceE2ee} serves the
 * Application Service API's transaction endpoint, decrypts each transaction's room events, routes
 * its MSC2409/MSC4203 to-device events and MSC3202 device lists and key counts to the device they
 * address, and sends as ghost users: with a device of their own (MSC4190 creation, MSC4326
 * masquerading), each with its own Olm account and self-signed cross-signing identity, or with the
 * bridge bot's single device. All accounts live in one store under one pickle key.
 */
package io.github.mxe2ee.plugin.appservice;
