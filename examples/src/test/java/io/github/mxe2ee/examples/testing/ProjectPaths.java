package io.github.mxe2ee.examples.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository root from a test's working directory (a module folder under Surefire). */
public final class ProjectPaths {
  private ProjectPaths() {}

  /**
   * The nearest ancestor of the working directory that holds {@code scripts/dev-homeserver.sh}.
   *
   * @throws IllegalStateException when there is none
   */
  public static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts/dev-homeserver.sh"))) {
        return p;
      }
    }
    throw new IllegalStateException("no scripts/dev-homeserver.sh above " + dir);
  }
}
