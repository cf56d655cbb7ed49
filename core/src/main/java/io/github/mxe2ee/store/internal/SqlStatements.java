package io.github.mxe2ee.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A cache of prepared statements on one connection plus small query helpers. Not thread-safe; the
 * store serializes access. Not API.
 */
public final class SqlStatements implements AutoCloseable {
  /** Maps one result row to a value. */
  @FunctionalInterface
  public interface RowMapper<T> {
    T map(ResultSet rs) throws SQLException;
  }

  private final Connection conn;
  private final Map<String, PreparedStatement> cache = new HashMap<>();

  public SqlStatements(Connection conn) {
    this.conn = conn;
  }

  private PreparedStatement prepare(String sql, Object... args) throws SQLException {
    PreparedStatement ps = cache.get(sql);
    if (ps == null) {
      ps = conn.prepareStatement(sql);
      cache.put(sql, ps);
    }
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a == null) {
        ps.setNull(i + 1, java.sql.Types.VARCHAR);
      } else if (a instanceof Boolean b) {
        ps.setInt(i + 1, b ? 1 : 0);
      } else {
        ps.setObject(i + 1, a);
      }
    }
    return ps;
  }

  public int update(String sql, Object... args) throws SQLException {
    return prepare(sql, args).executeUpdate();
  }

  public <T> List<T> list(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
    List<T> out = new ArrayList<>();
    try (ResultSet rs = prepare(sql, args).executeQuery()) {
      while (rs.next()) {
        out.add(mapper.map(rs));
      }
    }
    return out;
  }

  public <T> Optional<T> one(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
    try (ResultSet rs = prepare(sql, args).executeQuery()) {
      return rs.next() ? Optional.ofNullable(mapper.map(rs)) : Optional.empty();
    }
  }

  /** Returns the SQL text of every statement prepared so far (for query-plan tests). */
  public java.util.Set<String> preparedSql() {
    return java.util.Set.copyOf(cache.keySet());
  }

  @Override
  public void close() throws SQLException {
    for (PreparedStatement ps : cache.values()) {
      ps.close();
    }
    cache.clear();
  }
}
