package io.github.mxe2ee.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** The exact syntax of the echo bot's {@code !topic} command (issue 16). */
class TopicCommandSyntaxTest {
  @Test
  void readAndSetForms() {
    assertEquals("", TopicCommand.argument("!topic"));
    assertEquals("", TopicCommand.argument("!topic   "), "only whitespace reads the topic");
    assertEquals("hello world", TopicCommand.argument("!topic hello world"));
    assertEquals("spaced  out", TopicCommand.argument("!topic    spaced  out  "));
    assertEquals("two\nlines", TopicCommand.argument("!topic\ttwo\nlines"));
    assertEquals("!topic", TopicCommand.argument("!topic !topic"));
  }

  @Test
  void otherTextIsNotTheCommand() {
    for (String body :
        new String[] {"!topics", "!TOPIC", " !topic", "say !topic", "!topicx y", ""}) {
      assertNull(TopicCommand.argument(body), body);
    }
  }

  @Test
  void aRefusedTopicSaysWhyWithoutTheServersMessage() {
    String forbidden =
        TopicCommand.whyNot(
            new io.github.mxe2ee.plugin.HomeserverException(
                "PUT /state", 403, "M_FORBIDDEN", "secret detail"));
    org.junit.jupiter.api.Assertions.assertTrue(
        forbidden.startsWith("M_FORBIDDEN: the bot may not change the topic"), forbidden);
    org.junit.jupiter.api.Assertions.assertFalse(forbidden.contains("secret"), forbidden);
    assertEquals(
        "M_LIMIT_EXCEEDED",
        TopicCommand.whyNot(
            new io.github.mxe2ee.plugin.HomeserverException("x", 429, "M_LIMIT_EXCEEDED", "d")));
    assertEquals("IllegalStateException", TopicCommand.whyNot(new IllegalStateException("x")));
  }
}
