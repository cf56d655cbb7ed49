/**
 * The PostgreSQL {@link io.github.mxe2ee.store.CryptoStore} backend for bridges spread over several
 * instances: {@link io.github.mxe2ee.store.postgres.PostgresCryptoStore}. See {@code
 * docs/STORE.md}.
 */
package io.github.mxe2ee.store.postgres;
