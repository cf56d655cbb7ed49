-- Test-only migration: proves that an existing V1 store is upgraded in place, data kept.
CREATE TABLE test_notes (
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  note TEXT NOT NULL
);

ALTER TABLE accounts ADD COLUMN test_flag INTEGER NOT NULL DEFAULT 7;
