/**
 * Plumbing shared by the SQL store backends (SQLite, PostgreSQL): statement cache, row mappers, the
 * change writer and the common read/save implementation. Not API: may change without notice.
 */
package io.github.mxe2ee.store.internal;
