package io.github.mxe2ee.store.postgres;

import io.github.mxe2ee.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Numbered migrations for PostgreSQL ({@code store/postgres/migrations/V<n>__*.sql}, listed in
 * {@code index.txt}), applied in one transaction under a transaction-level advisory lock so that
 * instances starting together apply them once. A newer schema is refused. Not API.
 */
final class PostgresMigrations {
  static final String DIR = "/io/github/mxe2ee/store/postgres/migrations/";

  private PostgresMigrations() {}

  static int latestVersion() {
    return scripts().size();
  }

  private static List<String> scripts() {
    List<String> out = new ArrayList<>();
    for (String name : read(DIR + "index.txt").lines().map(String::strip).toList()) {
      if (name.isEmpty()) {
        continue;
      }
      if (!name.startsWith("V" + (out.size() + 1) + "__")) {
        throw new IllegalStateException("migration " + name + " out of order in " + DIR);
      }
      out.add(read(DIR + name));
    }
    return out;
  }

  private static String read(String path) {
    try (InputStream in = PostgresMigrations.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read resource " + path, e);
    }
  }

  static void migrate(Connection conn, String where) throws SQLException {
    List<String> scripts = scripts();
    conn.setAutoCommit(false);
    try (Statement st = conn.createStatement()) {
      st.execute("SELECT pg_advisory_xact_lock(" + PostgresCryptoStore.LOCK_SPACE + ", 0)");
      st.execute(
          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at"
              + " BIGINT NOT NULL)");
      int current;
      try (ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
        rs.next();
        current = rs.getInt(1);
      }
      if (current > scripts.size()) {
        throw new StoreException(
            StoreException.Reason.SCHEMA_TOO_NEW,
            "crypto store "
                + where
                + " has schema version "
                + current
                + " but this mxe2ee knows versions up to "
                + scripts.size()
                + "; upgrade mxe2ee (the store was left untouched)");
      }
      for (int v = current + 1; v <= scripts.size(); v++) {
        for (String sql : statements(scripts.get(v - 1))) {
          st.execute(sql);
        }
        try (PreparedStatement ps =
            conn.prepareStatement(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")) {
          ps.setInt(1, v);
          ps.setLong(2, System.currentTimeMillis());
          ps.executeUpdate();
        }
      }
      conn.commit();
    } catch (SQLException | RuntimeException e) {
      conn.rollback();
      throw e;
    } finally {
      conn.setAutoCommit(true);
    }
  }

  /** Splits a script at semicolons that end a line; drops comment-only lines. */
  static List<String> statements(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n", -1)) {
      String trimmed = line.strip();
      if (trimmed.startsWith("--") || trimmed.isEmpty()) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        out.add(current.toString().strip());
        current.setLength(0);
      }
    }
    return out;
  }
}
