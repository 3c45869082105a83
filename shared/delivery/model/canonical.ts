import * as crypto from 'node:crypto';

/**
 * Canonical JSON: keys sorted at every level, no whitespace, `undefined` members left out. Two
 * values that mean the same JSON give the same text, whatever order their keys were written in.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, undefined, out);
  return out.join('');
}

/**
 * canonicalJson, remembering in `memo` the text of frozen objects and arrays (which cannot
 * change): the renderer keeps one per render, so a part shared by many manifests is written once.
 */
export function canonicalJsonMemo(value: unknown, memo: WeakMap<object, string>): string {
  const out: string[] = [];
  write(value, memo, out);
  return out.join('');
}

// The text is collected in pieces and joined once: a string built by `+=` is a tree of pieces,
// which hashing then has to flatten at a cost that grows with its depth.
function write(value: unknown, memo: WeakMap<object, string> | undefined, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    out.push(JSON.stringify(value) ?? 'null');
    return;
  }
  if (memo === undefined || !Object.isFrozen(value)) {
    writeMembers(value, memo, out);
    return;
  }
  let text = memo.get(value);
  if (text === undefined) {
    const own: string[] = [];
    writeMembers(value, memo, own);
    text = own.join('');
    memo.set(value, text);
  }
  out.push(text);
}

function writeMembers(value: object, memo: WeakMap<object, string> | undefined, out: string[]): void {
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      const item: unknown = value[i];
      // A hole (never in parsed data) is written as nothing, as Array.prototype.join does.
      if (item !== undefined) write(item, memo, out);
      else if (i in value) out.push('null');
    }
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  out.push('{');
  let first = true;
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    const text = keyText(key);
    out.push(first ? text.first : text.next);
    first = false;
    write(member, memo, out);
  }
  out.push('}');
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
