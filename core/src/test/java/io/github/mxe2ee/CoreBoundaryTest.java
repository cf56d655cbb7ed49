package io.github.mxe2ee;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * core is the sans-I/O engine (ARCHITECTURE.md): its sources never import Vert.x, networking or
 * HTTP classes. The Maven enforcer bans the dependencies; this test bans the imports.
 */
class CoreBoundaryTest {
  private static final Pattern FORBIDDEN =
      Pattern.compile(
          "^import\\s+(static\\s+)?(io\\.vertx|io\\.netty|java\\.net\\.http|java\\.net)\\.");

  @Test
  void coreSourcesImportNoVertxNetworkOrHttp() throws IOException {
    Path sources = Path.of("src/main/java");
    assertTrue(Files.isDirectory(sources), "run from the core module: " + sources.toAbsolutePath());
    List<String> offenders;
    try (Stream<Path> files = Files.walk(sources)) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .flatMap(CoreBoundaryTest::forbiddenImports)
              .toList();
    }
    assertEquals(List.of(), offenders);
  }

  private static Stream<String> forbiddenImports(Path file) {
    try {
      return Files.readAllLines(file).stream()
          .filter(line -> FORBIDDEN.matcher(line.trim()).find())
          .map(line -> file + ": " + line.trim());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
