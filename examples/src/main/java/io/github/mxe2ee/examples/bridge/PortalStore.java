package io.github.mxe2ee.examples.bridge;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The example bridge's own state, in one SQLite file beside its crypto store: the portals (name to
 * room id) and what Matrix users said in them, for the remote side to read.
 *
 * <p>Durability: every write is committed before its method returns (SQLite, WAL, {@code
 * synchronous=FULL}), and the bridge acknowledges a transaction only after its messages are written
 * here, so a crash loses nothing: Synapse sends an unacknowledged transaction again. A message is
 * keyed by its event id ({@code INSERT OR IGNORE}), so a transaction delivered twice records it
 * once.
 *
 * <p>Bounds: at most {@link #MAX_MESSAGES_PER_PORTAL} messages are kept per portal (the oldest are
 * dropped), so a chatty room cannot grow the file or the answer of {@code GET /remote/messages}
 * without limit.
 *
 * <p>Thread-safety: every method is {@code synchronized} on one connection; callers run them off
 * the event loop (they block on disk).
 */
public final class PortalStore implements AutoCloseable {

  /** Messages kept per portal for the remote side; the oldest beyond it are deleted. */
  public static final int MAX_MESSAGES_PER_PORTAL = 10_000;

  /** A portal: its remote name and its Matrix room. */
  public record Portal(String name, String roomId) {}

  /** A message a Matrix user said in a portal, decrypted. */
  public record Message(String from, String text) {}

  private final Connection db;
  private final int maxMessages;

  private PortalStore(Connection db, int maxMessages) {
    this.db = db;
    this.maxMessages = maxMessages;
  }

  /** Opens (creating if needed) the store at {@code file}. */
  public static PortalStore open(Path file) throws SQLException, java.io.IOException {
    return open(file, MAX_MESSAGES_PER_PORTAL);
  }

  /** {@link #open(Path)} with another bound on messages per portal (tests: a small one). */
  static PortalStore open(Path file, int maxMessages) throws SQLException, java.io.IOException {
    if (maxMessages < 1) {
      throw new IllegalArgumentException("maxMessages must be >= 1, was " + maxMessages);
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=FULL");
      s.execute(
          "CREATE TABLE IF NOT EXISTS portals (name TEXT PRIMARY KEY, room_id TEXT NOT NULL UNIQUE)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
              + " room_id TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL,"
              + " body TEXT NOT NULL)");
      s.execute("CREATE INDEX IF NOT EXISTS messages_room ON messages (room_id, seq)");
    } catch (SQLException e) {
      c.close();
      throw e;
    }
    return new PortalStore(c, maxMessages);
  }

  /** The portal named {@code name}, if it was created. */
  public synchronized Optional<Portal> portal(String name) throws SQLException {
    try (PreparedStatement p = db.prepareStatement("SELECT room_id FROM portals WHERE name = ?")) {
      p.setString(1, name);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(new Portal(name, r.getString(1))) : Optional.empty();
      }
    }
  }

  /** The portal whose room is {@code roomId}, if any. */
  public synchronized Optional<Portal> portalByRoom(String roomId) throws SQLException {
    try (PreparedStatement p = db.prepareStatement("SELECT name FROM portals WHERE room_id = ?")) {
      p.setString(1, roomId);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? Optional.of(new Portal(r.getString(1), roomId)) : Optional.empty();
      }
    }
  }

  /** Records a new portal. */
  public synchronized void addPortal(Portal portal) throws SQLException {
    try (PreparedStatement p =
        db.prepareStatement("INSERT INTO portals (name, room_id) VALUES (?, ?)")) {
      p.setString(1, portal.name());
      p.setString(2, portal.roomId());
      p.executeUpdate();
    }
  }

  /**
   * Records a message said in a portal room, once per event id.
   *
   * @return true when it was new
   */
  public synchronized boolean addMessage(String roomId, String eventId, String sender, String text)
      throws SQLException {
    try (PreparedStatement p =
        db.prepareStatement(
            "INSERT OR IGNORE INTO messages (room_id, event_id, sender, body) VALUES (?, ?, ?, ?)")) {
      p.setString(1, roomId);
      p.setString(2, eventId);
      p.setString(3, sender);
      p.setString(4, text);
      if (p.executeUpdate() == 0) {
        return false;
      }
    }
    try (PreparedStatement p =
        db.prepareStatement(
            "DELETE FROM messages WHERE room_id = ? AND seq <= (SELECT seq FROM messages"
                + " WHERE room_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)")) {
      p.setString(1, roomId);
      p.setString(2, roomId);
      p.setInt(3, maxMessages);
      p.executeUpdate();
    }
    return true;
  }

  /** What Matrix users said in the room, oldest first (in the order the bridge received it). */
  public synchronized List<Message> messages(String roomId) throws SQLException {
    List<Message> out = new ArrayList<>();
    try (PreparedStatement p =
        db.prepareStatement("SELECT sender, body FROM messages WHERE room_id = ? ORDER BY seq")) {
      p.setString(1, roomId);
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          out.add(new Message(r.getString(1), r.getString(2)));
        }
      }
    }
    return out;
  }

  @Override
  public synchronized void close() throws SQLException {
    db.close();
  }
}
