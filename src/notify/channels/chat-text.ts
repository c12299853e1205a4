import { escapeControlCharacters } from '../../lib/inert-text.js';

/**
 * Put between `@` and what follows it, so that `@channel`, `@all`, `@here` or `@alice` in text
 * from a heartbeat reads the same but notifies nobody. U+2060 WORD JOINER: invisible, no width,
 * and not a letter or digit, so chat servers (Mattermost splits words on anything else) and their
 * clients see a lone `@` followed by a word, not a mention. Chosen over code spans because it
 * changes nothing a reader sees and survives the Markdown escaping around it.
 */
export const MENTION_BREAK = '\u2060';

/** `@` followed by what could start a user, group or channel name. */
const MENTION = /@(?=[\p{L}\p{N}._-])/gu;

/**
 * Text for a chat channel, made inert: every mention broken, and control characters escaped
 * line by line (the line breaks hbd itself puts between title and body are kept; those that
 * came inside a heartbeat's text were escaped when the message was composed). Every chat
 * channel sends its text through this, so a new one cannot forget.
 */
export function inertChatText(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeControlCharacters(line).replace(MENTION, `@${MENTION_BREAK}`))
    .join('\n');
}
