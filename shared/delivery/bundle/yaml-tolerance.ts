/**
 * libyaml (kubectl, KubeVela) accepts a multi-line quoted scalar whose continuation lines are
 * indented no deeper than its key, as CRDs run through some YAML tools come out:
 *
 *     description: 'APIVersion defines the versioned schema of this representation
 *     of an object. Servers should convert ...'
 *
 * and likewise a flow collection (`[...]`, `{...}`) continued there. The `yaml` package stops at
 * the first such line (a missing closing quote; "must be sufficiently indented"). In flow context,
 * leading white space of a continuation line is not content (YAML 1.2, 7.3 and 7.4: line folding
 * strips it), so indenting those lines one level deeper than the key changes no value and makes the
 * text acceptable to the strict parser. That is all this does, only for the scalar or collection
 * the parser reported, and the result must then parse cleanly, every limit applying as before;
 * otherwise the original error stands.
 */

/** Re-parses allowed per file for this repair: bounds the work of a file made of such scalars to a few passes. */
export const MAX_YAML_REPAIRS = 32;

/** The repair for one error of the strict parser, when it is one of the two this file knows. */
export function repairYaml(text: string, error: { code: string; message: string; pos: [number, number] }): string | undefined {
  if (error.code === 'MISSING_CHAR' && /closing .?quote/i.test(error.message)) return reindentQuotedScalar(text, error.pos[0]);
  if (error.code === 'BAD_INDENT' && /^Flow (sequence|map) in block collection must be sufficiently indented/.test(error.message)) {
    return reindentFlowCollection(text, error.pos[0]);
  }
  return undefined;
}

/** `key: `, `- `, `- key: ` before a value, after the line's indentation. */
const VALUE_START = /^( *)((?:- +)*)((?:[^\s#'"[\]{}][^#'"[\]{}]*?: +)?)/;

/** Lines above a flow collection's bad line searched for its opening bracket. */
const FLOW_LOOKBACK_LINES = 200;

/**
 * The flow collection holding the under-indented line at `offset`: its opening line is found
 * upwards (a `[` or `{` starting a value whose matching bracket lies past `offset`), then every
 * line up to the closing bracket is indented one deeper than that line's key.
 */
function reindentFlowCollection(text: string, offset: number): string | undefined {
  let lineStart = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
  for (let lines = 0; lines < FLOW_LOOKBACK_LINES && lineStart > 0; lines += 1) {
    lineStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    const lineEnd = text.indexOf('\n', lineStart);
    const line = text.slice(lineStart, lineEnd);
    const start = VALUE_START.exec(line);
    if (!start) continue;
    const [prefix = '', indentText = '', dashes = ''] = start;
    const bracketAt = lineStart + prefix.length;
    if (text[bracketAt] !== '[' && text[bracketAt] !== '{') continue;
    const close = matchingBracket(text, bracketAt);
    if (close === undefined || close < offset) continue;
    return reindentLines(text, lineEnd, close, indentText.length + dashes.length + 1);
  }
  return undefined;
}

/** Offset of the bracket closing the one at `start`, quoted scalars skipped; undefined when it never closes. */
function matchingBracket(text: string, start: number): number | undefined {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const close = closingQuote(text, i, ch);
      if (close === undefined) return undefined;
      i = close;
    } else if (ch === '[' || ch === '{') {
      depth += 1;
    } else if (ch === ']' || ch === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return undefined;
}

/**
 * The text with the continuation lines of the quoted scalar whose first line holds `offset`
 * indented one space deeper than its key's line; undefined when there is no such scalar to repair
 * (no opening quote on that line, no closing quote, or nothing to re-indent).
 */
function reindentQuotedScalar(text: string, offset: number): string | undefined {
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
  return reindentLines(text, lineEnd, close, indentText.length + dashes.length + 1);
}

/** The lines after `lineEnd` up to the one holding `last`, each indented to at least `needed` spaces; undefined when none needed it. */
function reindentLines(text: string, lineEnd: number, last: number, needed: number): string | undefined {
  let out = text.slice(0, lineEnd + 1);
  let changed = false;
  let at = lineEnd + 1;
  while (at <= last) {
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
