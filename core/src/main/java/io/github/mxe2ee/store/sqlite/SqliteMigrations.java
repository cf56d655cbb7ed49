package io.github.mxe2ee.store.sqlite;

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
 * Numbered schema migrations {@code V1__*.sql, V2__*.sql, ...} read from a classpath directory and
 * applied in order, each in its own transaction together with its row in {@code schema_version}. A
 * database whose version is higher than the highest known migration is refused. Not API.
 */
final class SqliteMigrations {
  /** Where the production migrations live. */
  static final String DEFAULT_DIR = "/io/github/mxe2ee/store/sqlite/migrations/";

  /** Upper bound on migration numbers probed, far above any real schema history. */
  private static final int MAX_MIGRATIONS = 1000;

  private final List<String> scripts;

  private SqliteMigrations(List<String> scripts) {
    this.scripts = scripts;
  }

  /** Loads every migration from {@code dir} (a classpath directory ending in '/'). */
  static SqliteMigrations load(String dir) {
    List<String> scripts = new ArrayList<>();
    List<String> index = readIndex(dir);
    for (int v = 1; v <= MAX_MIGRATIONS; v++) {
      String name = null;
      for (String candidate : index) {
        String file = candidate.substring(candidate.lastIndexOf('/') + 1);
        if (file.startsWith("V" + v + "__") && file.endsWith(".sql")) {
          name = candidate;
        }
      }
      if (name == null) {
        break;
      }
      scripts.add(readResource(name.startsWith("/") ? name : dir + name));
    }
    if (scripts.isEmpty()) {
      throw new IllegalStateException("no schema migrations found in " + dir);
    }
    return new SqliteMigrations(List.copyOf(scripts));
  }

  /**
   * The migrations directory has an {@code index.txt} listing file names, one a line (a jar has no
   * directory listing); a name starting with '/' is an absolute classpath resource.
   */
  private static List<String> readIndex(String dir) {
    return readResource(dir + "index.txt")
        .lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty())
        .toList();
  }

  private static String readResource(String path) {
    try (InputStream in = SqliteMigrations.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + path);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read resource " + path, e);
    }
  }

  /** Returns the highest schema version these migrations produce. */
  int latestVersion() {
    return scripts.size();
  }

  /**
   * Checks, without writing anything, that the database is empty or an mxe2ee store whose version
   * this code knows. Run before any pragma that would rewrite the file header.
   *
   * @throws StoreException SCHEMA_TOO_NEW or CORRUPT as for {@link #migrate}
   */
  void check(Connection conn, String where) throws SQLException {
    int current = readVersion(conn, where);
    if (current > latestVersion()) {
      throw tooNew(where, current);
    }
  }

  private StoreException tooNew(String where, int current) {
    return new StoreException(
        StoreException.Reason.SCHEMA_TOO_NEW,
        "crypto store "
            + where
            + " has schema version "
            + current
            + " but this mxe2ee knows versions up to "
            + latestVersion()
            + "; upgrade mxe2ee (the store was left untouched)");
  }

  /**
   * Brings the database to {@link #latestVersion()}.
   *
   * @throws StoreException SCHEMA_TOO_NEW if the database is newer, CORRUPT if it holds tables but
   *     is not an mxe2ee store
   */
  void migrate(Connection conn, String where) throws SQLException {
    try (Statement st = conn.createStatement()) {
      st.execute("BEGIN IMMEDIATE");
      try {
        int current = currentVersion(conn, where);
        if (current > latestVersion()) {
          throw tooNew(where, current);
        }
        for (int v = current + 1; v <= latestVersion(); v++) {
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
        st.execute("COMMIT");
      } catch (SQLException | RuntimeException e) {
        st.execute("ROLLBACK");
        throw e;
      }
    }
  }

  private static int currentVersion(Connection conn, String where) throws SQLException {
    int version = readVersion(conn, where);
    if (version < 0) {
      try (Statement st = conn.createStatement()) {
        st.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT"
                + " NULL)");
      }
      return 0;
    }
    return version;
  }

  /** Returns the schema version, or -1 for an empty database without a version table. */
  private static int readVersion(Connection conn, String where) throws SQLException {
    try (Statement st = conn.createStatement()) {
      boolean hasVersionTable;
      int tables;
      try (ResultSet rs =
          st.executeQuery(
              "SELECT count(*), sum(name = 'schema_version') FROM sqlite_master WHERE type ="
                  + " 'table'")) {
        rs.next();
        tables = rs.getInt(1);
        hasVersionTable = rs.getInt(2) > 0;
      }
      if (!hasVersionTable) {
        if (tables > 0) {
          throw new StoreException(
              StoreException.Reason.CORRUPT,
              "database "
                  + where
                  + " has "
                  + tables
                  + " tables but no schema_version table: not an mxe2ee crypto store (left"
                  + " untouched)");
        }
        return -1;
      }
      try (ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
        rs.next();
        return rs.getInt(1);
      }
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
    if (!current.toString().isBlank()) {
      out.add(current.toString().strip());
    }
    return out;
  }
}
