/**
 * The default {@link io.github.mxe2ee.store.CryptoStore} backend: {@link
 * io.github.mxe2ee.store.sqlite.SqliteCryptoStore}, one SQLite file (WAL, {@code synchronous=FULL})
 * holding any number of accounts. See {@code docs/STORE.md}.
 */
package io.github.mxe2ee.store.sqlite;
