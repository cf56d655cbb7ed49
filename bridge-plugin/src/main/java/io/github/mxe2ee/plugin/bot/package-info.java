/**
 * Bot mode: a ready {@code /sync} loop ({@link io.github.mxe2ee.plugin.bot.SyncLoop}) that resumes
 * from the sync token saved with the crypto changes, decrypts, and hands each response to the bot's
 * {@link io.github.mxe2ee.plugin.bot.SyncHandler}.
 */
package io.github.mxe2ee.plugin.bot;
