/**
 * Private message text: natural-language text (at least two words, or two CJK characters) in a field
 * whose name says chat/message/SMS (communication category, e.g. `messages.content`, `liaotian`,
 * `聊天记录`). URLs, JSON and single tokens are not messages. Masked as `[text, 42 chars]`.
 */
import { redactedLabel } from '../mask.js';
import { type Detector, type HintProvider } from './types.js';

export function looksLikeText(s: string): boolean {
  if (s.length < 2 || /^[[{]/.test(s) || /^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(s)) return false;
  if (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}].*[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(s)) return true;
  return /\p{L}{2,}[\s,.!?;:]+\p{L}+/u.test(s);
}

export function createChatTextDetector(hints: HintProvider): Detector {
  return {
    id: 'chat_text',
    category: 'communication',
    description: 'Message text in a chat/message/SMS field',
    checksumBacked: false,
    detect(value, context) {
      return hints(context).categories.has('communication') && looksLikeText(value.trim());
    },
    mask: (value) => redactedLabel(`[text, ${Array.from(value.trim()).length} chars]`),
  };
}
