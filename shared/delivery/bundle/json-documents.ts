/**
 * A fast path for YAML files that are JSON documents (what `kubectl get -o json`, generators and
 * `tricenter render -o json` write): each document a JSON object, documents separated by `---`
 * lines. Such a file means the same as YAML (YAML 1.2 is a superset of JSON) and JSON.parse builds
 * it some fifty times faster than the YAML composer. The strict YAML parser stays the judge: this
 * path only answers when the file is surely valid, with the very documents, indexes and lines the
 * YAML parser would give, and hands everything else back (undefined) to it: invalid JSON, a
 * duplicate key, a `__proto__` or `<<` key, nesting near the depth limit, too many documents,
 * an empty document, and any character where YAML and JSON might part (tabs, carriage returns,
 * C1 and Unicode line controls, a byte order mark, integers of 16 digits or more that YAML reads
 * with parseInt). The errors for those are therefore always the YAML parser's, naming the line.
 */
import type { BundleLimits } from './limits.ts';

/** parseYamlDocuments' context and documents (yaml-documents.ts), restated here: that module imports this one. */
interface JsonParseContext {
  limits: Required<BundleLimits>;
  documentsSoFar: number;
}

interface ParsedJsonDocument {
  index: number;
  line: number;
  value: Record<string, unknown>;
}

// Characters outside plain printable text on which YAML and JSON might disagree, or that YAML refuses.
const UNUSUAL = /[\t\r\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udfff]/u;
// Every string (with the colon that makes it a key), every bracket, every long run of digits.
// Strings are consumed whole from their opening quote, so nothing inside one is taken for structure.
const TOKENS = /"((?:[^"\\\n]|\\.)*)"(\s*:)?|[{}[\]]|[0-9]{16,}/g;
const SEPARATOR = '\n---\n';
/** Above this many keys a mapping's keys are looked up in a Set, below it in a list (most have a few). */
const SMALL_MAP = 16;

/** The documents of a file of JSON objects, exactly as parseYamlDocuments gives them, or undefined (use the YAML parser). */
export function parseJsonDocuments(text: string, context: JsonParseContext): ParsedJsonDocument[] | undefined {
  if (UNUSUAL.test(text)) return undefined;
  let at = text.startsWith('---\n') ? 4 : 0;
  let line = at === 4 ? 2 : 1;
  const documents: ParsedJsonDocument[] = [];
  while (at <= text.length) {
    const next = text.indexOf(SEPARATOR, at);
    const end = next < 0 ? text.length : next;
    const open = firstNonSpace(text, at, end);
    if (open === end || text.charCodeAt(open) !== 0x7b /* { */) return undefined;
    line += countNewlines(text, at, open);
    if (context.documentsSoFar + documents.length + 1 > context.limits.maxDocuments) return undefined;
    const source = text.slice(open, end);
    if (!isPlainJsonMapping(source, context.limits.maxDepth)) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch {
      return undefined;
    }
    documents.push({ index: documents.length, line, value: value as Record<string, unknown> });
    if (next < 0) break;
    line += countNewlines(text, open, next) + 2;
    at = next + SEPARATOR.length;
  }
  return documents;
}

function firstNonSpace(text: string, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a) break;
    i++;
  }
  return i;
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * Whether the JSON text (when it is valid JSON: JSON.parse decides that) is a mapping the YAML
 * parser would read the same: no key twice in a mapping, no `__proto__` or `<<` key, every key's
 * colon on the key's line, containers nested at most `maxDepth - 2` deep (clear of both the
 * parser's nesting estimate and the data depth limit), no integer of 16 digits or more.
 */
function isPlainJsonMapping(source: string, maxDepth: number): boolean {
  // The keys seen in each open container (undefined for a sequence), innermost last.
  const open: Array<string[] | Set<string> | undefined> = [];
  TOKENS.lastIndex = 0;
  for (let match = TOKENS.exec(source); match !== null; match = TOKENS.exec(source)) {
    const token = match[0];
    const first = token.charCodeAt(0);
    if (first === 0x22 /* " */) {
      const colon = match[2];
      if (colon === undefined) continue;
      if (colon.includes('\n')) return false;
      const keys = open.at(-1);
      if (keys === undefined) return false;
      const raw = match[1] ?? '';
      const key = raw.includes('\\') ? decodeKey(raw) : raw;
      if (key === undefined || key === '__proto__' || key === '<<') return false;
      if (Array.isArray(keys)) {
        if (keys.includes(key)) return false;
        keys.push(key);
        if (keys.length > SMALL_MAP) open[open.length - 1] = new Set(keys);
      } else {
        if (keys.has(key)) return false;
        keys.add(key);
      }
    } else if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
      open.push(first === 0x7b ? [] : undefined);
      if (open.length > maxDepth - 1) return false;
    } else if (first === 0x7d /* } */ || first === 0x5d /* ] */) {
      open.pop();
    } else return false; // a long integer
  }
  return true;
}

function decodeKey(raw: string): string | undefined {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}
