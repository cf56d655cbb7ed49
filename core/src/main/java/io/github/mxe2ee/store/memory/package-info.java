/**
 * The in-memory {@link io.github.mxe2ee.store.CryptoStore} for tests: {@link
 * io.github.mxe2ee.store.memory.MemoryCryptoStore} over a shared {@link
 * io.github.mxe2ee.store.memory.MemoryDatabase}.
 */
package io.github.mxe2ee.store.memory;
