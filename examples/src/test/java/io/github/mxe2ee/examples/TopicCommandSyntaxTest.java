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
}
