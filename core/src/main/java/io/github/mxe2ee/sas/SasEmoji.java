package io.github.mxe2ee.sas;

import java.util.List;
import java.util.Objects;

/**
 * One emoji of the SAS emoji table (spec: {@code end_to_end_encryption.md}, "SAS method: emoji";
 * the table is the spec's {@code data-definitions/sas-emoji.json}, 64 entries, English
 * descriptions). Immutable.
 *
 * @param index the 6-bit number, 0 to 63
 * @param symbol the emoji, as Unicode text
 * @param description the English description the spec gives (for example {@code Dog})
 */
public record SasEmoji(int index, String symbol, String description) {
  /** Number of entries: one per 6-bit value. */
  public static final int TABLE_SIZE = 64;

  /** Checks the fields. */
  public SasEmoji {
    if (index < 0 || index >= TABLE_SIZE) {
      throw new IllegalArgumentException("emoji index: expected 0..63 but was " + index);
    }
    Objects.requireNonNull(symbol, "symbol");
    Objects.requireNonNull(description, "description");
  }

  /**
   * The emoji of a 6-bit value.
   *
   * @throws IllegalArgumentException if {@code index} is not 0..63
   */
  public static SasEmoji of(int index) {
    if (index < 0 || index >= TABLE_SIZE) {
      throw new IllegalArgumentException("emoji index: expected 0..63 but was " + index);
    }
    return TABLE.get(index);
  }

  /** The whole table, in index order (the spec's {@code sas-emoji.json}). */
  public static List<SasEmoji> table() {
    return TABLE;
  }

  private static final List<SasEmoji> TABLE =
      List.of(
          new SasEmoji(0, "\uD83D\uDC36", "Dog"),
          new SasEmoji(1, "\uD83D\uDC31", "Cat"),
          new SasEmoji(2, "\uD83E\uDD81", "Lion"),
          new SasEmoji(3, "\uD83D\uDC0E", "Horse"),
          new SasEmoji(4, "\uD83E\uDD84", "Unicorn"),
          new SasEmoji(5, "\uD83D\uDC37", "Pig"),
          new SasEmoji(6, "\uD83D\uDC18", "Elephant"),
          new SasEmoji(7, "\uD83D\uDC30", "Rabbit"),
          new SasEmoji(8, "\uD83D\uDC3C", "Panda"),
          new SasEmoji(9, "\uD83D\uDC13", "Rooster"),
          new SasEmoji(10, "\uD83D\uDC27", "Penguin"),
          new SasEmoji(11, "\uD83D\uDC22", "Turtle"),
          new SasEmoji(12, "\uD83D\uDC1F", "Fish"),
          new SasEmoji(13, "\uD83D\uDC19", "Octopus"),
          new SasEmoji(14, "\uD83E\uDD8B", "Butterfly"),
          new SasEmoji(15, "\uD83C\uDF37", "Flower"),
          new SasEmoji(16, "\uD83C\uDF33", "Tree"),
          new SasEmoji(17, "\uD83C\uDF35", "Cactus"),
          new SasEmoji(18, "\uD83C\uDF44", "Mushroom"),
          new SasEmoji(19, "\uD83C\uDF0F", "Globe"),
          new SasEmoji(20, "\uD83C\uDF19", "Moon"),
          new SasEmoji(21, "\u2601\uFE0F", "Cloud"),
          new SasEmoji(22, "\uD83D\uDD25", "Fire"),
          new SasEmoji(23, "\uD83C\uDF4C", "Banana"),
          new SasEmoji(24, "\uD83C\uDF4E", "Apple"),
          new SasEmoji(25, "\uD83C\uDF53", "Strawberry"),
          new SasEmoji(26, "\uD83C\uDF3D", "Corn"),
          new SasEmoji(27, "\uD83C\uDF55", "Pizza"),
          new SasEmoji(28, "\uD83C\uDF82", "Cake"),
          new SasEmoji(29, "\u2764\uFE0F", "Heart"),
          new SasEmoji(30, "\uD83D\uDE00", "Smiley"),
          new SasEmoji(31, "\uD83E\uDD16", "Robot"),
          new SasEmoji(32, "\uD83C\uDFA9", "Hat"),
          new SasEmoji(33, "\uD83D\uDC53", "Glasses"),
          new SasEmoji(34, "\uD83D\uDD27", "Spanner"),
          new SasEmoji(35, "\uD83C\uDF85", "Santa"),
          new SasEmoji(36, "\uD83D\uDC4D", "Thumbs Up"),
          new SasEmoji(37, "\u2602\uFE0F", "Umbrella"),
          new SasEmoji(38, "\u231B", "Hourglass"),
          new SasEmoji(39, "\u23F0", "Clock"),
          new SasEmoji(40, "\uD83C\uDF81", "Gift"),
          new SasEmoji(41, "\uD83D\uDCA1", "Light Bulb"),
          new SasEmoji(42, "\uD83D\uDCD5", "Book"),
          new SasEmoji(43, "\u270F\uFE0F", "Pencil"),
          new SasEmoji(44, "\uD83D\uDCCE", "Paperclip"),
          new SasEmoji(45, "\u2702\uFE0F", "Scissors"),
          new SasEmoji(46, "\uD83D\uDD12", "Lock"),
          new SasEmoji(47, "\uD83D\uDD11", "Key"),
          new SasEmoji(48, "\uD83D\uDD28", "Hammer"),
          new SasEmoji(49, "\u260E\uFE0F", "Telephone"),
          new SasEmoji(50, "\uD83C\uDFC1", "Flag"),
          new SasEmoji(51, "\uD83D\uDE82", "Train"),
          new SasEmoji(52, "\uD83D\uDEB2", "Bicycle"),
          new SasEmoji(53, "\u2708\uFE0F", "Aeroplane"),
          new SasEmoji(54, "\uD83D\uDE80", "Rocket"),
          new SasEmoji(55, "\uD83C\uDFC6", "Trophy"),
          new SasEmoji(56, "\u26BD", "Ball"),
          new SasEmoji(57, "\uD83C\uDFB8", "Guitar"),
          new SasEmoji(58, "\uD83C\uDFBA", "Trumpet"),
          new SasEmoji(59, "\uD83D\uDD14", "Bell"),
          new SasEmoji(60, "\u2693", "Anchor"),
          new SasEmoji(61, "\uD83C\uDFA7", "Headphones"),
          new SasEmoji(62, "\uD83D\uDCC1", "Folder"),
          new SasEmoji(63, "\uD83D\uDCCC", "Pin"));
}
