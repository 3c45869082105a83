/**
 * libyaml (kubectl, KubeVela) accepts a multi-line quoted scalar whose continuation lines are
 * indented no deeper than its key, as CRDs run through some YAML tools come out:
 *
 *     description: 'APIVersion defines the versioned schema of this representation
 *     of an object. Servers should convert ...'
 *
 * The `yaml` package stops the scalar at the first such line and reports a missing closing quote.
 * In a flow scalar, leading white space of a continuation line is not content (YAML 1.2, 7.3: line
 * folding strips it), so indenting those lines one level deeper than the key changes no value and
 * makes the text acceptable to the strict parser. That is all this does, only for the scalar the
 * parser reported, never inside a block scalar, and the result must then parse cleanly, every limit
 * applying as before; otherwise the original error stands.
 */

/** Re-parses allowed per file for this repair: bounds the work of a file made of such scalars to a few passes. */
export const MAX_QUOTE_REPAIRS = 32;

/**
 * The text with the continuation lines of the quoted scalar whose first line holds `offset`
 * indented one space deeper than its key's line; undefined when there is no such scalar to repair
 * (no opening quote on that line, no closing quote, or nothing to re-indent).
 */
export function reindentQuotedScalar(text: string, offset: number): string | undefined {
  const lineStart = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  const lineEnd = text.indexOf('\n', lineStart);
  if (lineEnd === -1) return undefined;
  const line = text.slice(lineStart, lineEnd);
  // `key: 'text`, `- 'text`, `- key: "text`: a quote opening a value, after the key's indentation.
  const opening = /^( *)((?:- +)*)((?:[^\s#'"][^#'"]*?: +)?)(['"])/.exec(line);
  if (!opening) return undefined;
  const [, indentText = '', dashes = '', key = '', quote = "'"] = opening;
  const quoteAt = lineStart + indentText.length + dashes.length + key.length;
  const close = closingQuote(text, quoteAt, quote);
  if (close === undefined || close < lineEnd) return undefined;
  // One deeper than the key (or the sequence entry) the scalar belongs to: `- b: 'x` has its key at column 2.
  const needed = indentText.length + dashes.length + 1;
  let out = text.slice(0, lineEnd + 1);
  let changed = false;
  let at = lineEnd + 1;
  while (at <= close) {
    const next = text.indexOf('\n', at);
    const end = next === -1 ? text.length : next;
    const content = text.slice(at, end);
    const spaces = content.length - content.trimStart().length;
    if (content.trim() !== '' && spaces < needed && !/^\t/.test(content.slice(spaces))) {
      out += ' '.repeat(needed - spaces);
      changed = true;
    }
    out += text.slice(at, next === -1 ? end : next + 1);
    at = end + 1;
  }
  out += text.slice(at);
  return changed ? out : undefined;
}

/** Offset of the quote that closes the scalar opened at `start`: `''` escapes in single quotes, `\` in double quotes. */
function closingQuote(text: string, start: number, quote: string): number | undefined {
  for (let i = start + 1; i < text.length; i += 1) {
    const ch = text[i];
    if (quote === '"' && ch === '\\') {
      i += 1;
      continue;
    }
    if (ch !== quote) continue;
    if (quote === "'" && text[i + 1] === "'") {
      i += 1;
      continue;
    }
    return i;
  }
  return undefined;
}
