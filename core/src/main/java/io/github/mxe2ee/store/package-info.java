/**
 * The crypto store: small read interfaces composed into {@link io.github.mxe2ee.store.CryptoStore}
 * with one atomic, durable {@code save(Changes)} per machine step, the records it stores (opaque
 * encrypted pickles plus the metadata the machine looks things up by) and {@link
 * io.github.mxe2ee.store.PickleKeySource} for the pickle key. Backends: {@code store.memory}
 * (tests) and {@code store.sqlite} (default). See {@code docs/STORE.md}.
 */
package io.github.mxe2ee.store;
