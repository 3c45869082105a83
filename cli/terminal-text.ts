/**
 * Text for a terminal from strings we do not control (bundle entry names, object names, reasons
 * and messages from the server). A raw control character in them could clear the screen, move the
 * cursor, or start a new line that looks like ours; a bidi control could reorder what is shown.
 * Every CLI output path prints such strings through `terminalSafe` (or `terminalSafeJson`).
 */

// C0 controls, DEL, C1 controls, line/paragraph separators, and the bidi embeddings, overrides and isolates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this module's job.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// JSON.stringify already escapes C0 controls inside strings; the rest may only appear inside strings.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (char: string): string => {
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** One line of text: every control character shown as an escape (`\x1b`, `\x0a`, `\u202e`). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Pretty JSON whose strings carry no raw control character (escapes stay valid JSON). */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Several lines of ours (e.g. a message commander wrote), each escaped: only our line breaks remain. */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}
