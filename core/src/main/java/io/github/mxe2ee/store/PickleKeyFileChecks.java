package io.github.mxe2ee.store;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Who else could have written or replaced a pickle key file: refuses the file if it is owned by
 * another user, and refuses it (or creating it) if the file's directory, or any directory above it,
 * can be written by group or others, unless that directory has the sticky bit (like {@code /tmp}:
 * there only an entry's owner may rename or delete it, and the file itself must be ours). The
 * file's own directory must also be owned by us or by root. Not API.
 *
 * <p>Uses the {@code unix} file attribute view (uid and mode with the sticky bit), which the JDK
 * provides on Linux and macOS; where it is missing (Windows, whose ACLs this does not model) the
 * checks are skipped. Our user id comes from {@code com.sun.security.auth.module.UnixSystem}, or
 * from {@code /proc/self}; if neither is available the ownership checks are skipped.
 */
final class PickleKeyFileChecks {
  private static final int ROOT = 0;
  private static final int GROUP_WRITE = 0020;
  private static final int OTHER_WRITE = 0002;
  private static final int STICKY = 01000;

  private PickleKeyFileChecks() {}

  private static boolean unixView() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("unix");
  }

  /** Our real user id, if this platform can tell. */
  static OptionalLong currentUid() {
    try {
      Class<?> c = Class.forName("com.sun.security.auth.module.UnixSystem");
      Object system = c.getConstructor().newInstance();
      return OptionalLong.of((Long) c.getMethod("getUid").invoke(system));
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // Not a Unix JDK, or the jdk.security.auth module is left out of a custom runtime.
    }
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      return OptionalLong.of(((Number) uid).longValue());
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Checks an existing key file: it (and the link, if it is a symbolic link) is owned by us, and
   * its directories are safe ({@link #checkDirectories}).
   *
   * @throws PickleKeyException naming the file or directory and the fix
   */
  static void checkFile(Path file) throws IOException {
    if (!unixView()) {
      return;
    }
    OptionalLong me = currentUid();
    if (me.isPresent()) {
      for (LinkOption[] follow :
          new LinkOption[][] {new LinkOption[] {LinkOption.NOFOLLOW_LINKS}, new LinkOption[0]}) {
        long uid = ((Number) Files.getAttribute(file, "unix:uid", follow)).longValue();
        if (uid != me.getAsLong()) {
          throw new PickleKeyException(
              "pickle key file "
                  + file
                  + (follow.length == 0 ? "" : " (the link itself)")
                  + " is owned by uid "
                  + uid
                  + ", not by this process's user (uid "
                  + me.getAsLong()
                  + "): another user could have chosen or read the key; if the file is really"
                  + " yours, fix with: chown "
                  + me.getAsLong()
                  + " "
                  + file
                  + " (otherwise delete it and restore the key from your backup)");
        }
      }
    }
    // Both where the name lives and, for a symbolic link, where the key itself lives.
    checkDirectories(file, file.toAbsolutePath().getParent());
    checkDirectories(file, file.toRealPath().getParent());
  }

  /**
   * Checks {@code dir} and every directory above it: none may be writable by group or others unless
   * sticky, and {@code dir} itself must be owned by us or root.
   *
   * @param file the key file, for messages
   * @throws PickleKeyException naming the directory and the fix
   */
  static void checkDirectories(Path file, Path dir) throws IOException {
    if (!unixView() || dir == null) {
      return;
    }
    Path real = dir.toRealPath();
    OptionalLong me = currentUid();
    boolean first = true;
    for (Path d = real; d != null; d = d.getParent()) {
      Map<String, Object> attrs = Files.readAttributes(d, "unix:mode,uid");
      int mode = ((Number) attrs.get("mode")).intValue();
      long uid = ((Number) attrs.get("uid")).longValue();
      if ((mode & (GROUP_WRITE | OTHER_WRITE)) != 0 && (mode & STICKY) == 0) {
        throw new PickleKeyException(
            "directory "
                + d
                + " of pickle key file "
                + file
                + " is writable by "
                + ((mode & OTHER_WRITE) != 0 ? "all users" : "its group")
                + " (mode "
                + String.format("%04o", mode & 07777)
                + "), so another local user could replace the key; fix with: chmod go-w "
                + d
                + " (or keep the key in a directory only its owner can write)");
      }
      if (first && me.isPresent() && uid != me.getAsLong() && uid != ROOT) {
        throw new PickleKeyException(
            "directory "
                + d
                + " of pickle key file "
                + file
                + " is owned by uid "
                + uid
                + ", neither this process's user (uid "
                + me.getAsLong()
                + ") nor root, who could replace the key; keep the key in a directory of your own");
      }
      first = false;
    }
  }
}
