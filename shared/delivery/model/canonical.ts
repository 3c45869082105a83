import * as crypto from 'node:crypto';

/**
 * Canonical JSON: keys sorted at every level, no whitespace, `undefined` members left out. Two
 * values that mean the same JSON give the same text, whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, undefined, undefined, out);
  return out.join('');
}

/**
 * canonicalJson, remembering in `memo` the text of frozen objects and arrays (which cannot
 * change): the renderer keeps one per render, so a part shared by many manifests is written once.
 */
export function canonicalJsonMemo(value: unknown, memo: WeakMap<object, string>): string {
  const out: string[] = [];
  write(value, memo, undefined, out);
  return out.join('');
}

/**
 * canonicalJsonMemo that also freezes each part it writes that was not frozen, once written, all
 * but the parts in `open` (which the caller still changes, then freezes): what deepFreeze would
 * do afterwards, without walking the value a second time.
 */
export function canonicalJsonFreezing(value: unknown, memo: WeakMap<object, string>, open: readonly object[]): string {
  // One list of pieces for every call (the renderer makes tens of thousands): emptied, not dropped.
  const out = PIECES;
  try {
    write(value, memo, open, out);
    return out.join('');
  } finally {
    out.length = 0;
  }
}

const PIECES: string[] = [];

// The text is collected in pieces and joined once: a string built by `+=` is a tree of pieces,
// which hashing then has to flatten at a cost that grows with its depth.
function write(value: unknown, memo: WeakMap<object, string> | undefined, open: readonly object[] | undefined, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    out.push(primitiveText(value));
    return;
  }
  if (memo === undefined || !Object.isFrozen(value)) {
    writeMembers(value, memo, open, out);
    if (open !== undefined && !open.includes(value)) Object.freeze(value);
    return;
  }
  let text = memo.get(value);
  if (text === undefined) {
    const own: string[] = [];
    writeMembers(value, memo, open, own);
    text = own.join('');
    memo.set(value, text);
  }
  out.push(text);
}

// Strings JSON.stringify may write other than as `"` + string + `"`: with a quote, a backslash, a C0
// control or a surrogate (a lone one is escaped; a pair is left to JSON.stringify too).
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters JSON escapes are what this finds.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

const STRING_TEXT = new Map<string, string>();
const STRING_TEXT_LIMIT = 20_000;

/** `JSON.stringify(value) ?? 'null'`, without the call for the common cases (strings that need no escape, finite numbers). */
function primitiveText(value: unknown): string {
  switch (typeof value) {
    case 'string': {
      // The same strings come back in every manifest (names, images, versions): their text is kept.
      let text = STRING_TEXT.get(value);
      if (text === undefined) {
        text = NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
        if (STRING_TEXT.size < STRING_TEXT_LIMIT && value.length <= 100) STRING_TEXT.set(value, text);
      }
      return text;
    }
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return JSON.stringify(value) ?? 'null';
  }
}

function writeMembers(value: object, memo: WeakMap<object, string> | undefined, open: readonly object[] | undefined, out: string[]): void {
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = value[i];
      // A hole (never in parsed data) is written as nothing, as Array.prototype.join does.
      if (item !== undefined) write(item, memo, open, out);
      else if (i in value) out.push('null');
    }
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  out.push('{');
  let first = true;
  for (const key of sortedKeys(record)) {
    const member = record[key];
    if (member === undefined) continue;
    const text = keyText(key);
    out.push(first ? text.first : text.next);
    first = false;
    write(member, memo, open, out);
  }
  out.push('}');
}

/**
 * The object's own keys in sort order (as Array.prototype.sort orders strings). Objects have a
 * few keys, often already in order (apiVersion, kind, metadata, spec): an insertion sort in place
 * costs no allocation, which sort() does; a large object is left to sort().
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    if ((keys[j] as string) <= key) continue;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

// Member names repeat in every object (apiVersion, metadata, name...): their JSON text (with the colon) is kept.
const KEY_TEXT = new Map<string, { first: string; next: string }>();
const KEY_TEXT_LIMIT = 10_000;

/** `"key":` and `,"key":`. */
function keyText(key: string): { first: string; next: string } {
  let text = KEY_TEXT.get(key);
  if (text === undefined) {
    const json = JSON.stringify(key);
    text = { first: `${json}:`, next: `,${json}:` };
    if (KEY_TEXT.size < KEY_TEXT_LIMIT && key.length <= 100) KEY_TEXT.set(key, text);
  }
  return text;
}

// crypto.hash (Node 20.12+) skips the Hash object: a third of the time for a small text.
const oneShotHash = typeof crypto.hash === 'function' ? crypto.hash : undefined;

export function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex');
}

/** sha256 (hex) of a value's canonical JSON. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
