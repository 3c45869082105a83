/**
 * Two checks that keep hostile YAML from costing more than its size, both linear:
 *
 * - `checkNestingBeforeParsing` lexes the text (yaml's Lexer is iterative and fast) and estimates
 *   how deep collections nest, before the recursive composer sees it. A few hundred KiB of `[[[[`
 *   otherwise takes the composer seconds, ends in a stack overflow, and has been seen to kill the
 *   process outright (V8 fails fatally when a stack overflow hits regexp compilation).
 * - `findDuplicateKey` replaces yaml's `uniqueKeys`, which compares every key with every earlier
 *   key of its map: a 450 KiB map of 40,000 keys took a minute.
 */
import { CST, isAlias, isMap, isPair, isScalar, isSeq, Lexer, type Document, type Node } from 'yaml';

export interface NestingProblem {
  estimatedDepth: number;
  /** 0-based document index where the limit was passed. */
  document: number;
  /** 1-based line where the limit was passed. */
  line: number;
}

const BLOCK_INDICATORS = new Set(['seq-item-ind', 'explicit-key-ind', 'map-value-ind']);
const IGNORED = new Set(['comment', 'byte-order-mark', 'doc-mode', 'directive-line', 'flow-error-end']);

/**
 * Estimates nesting depth per line as: open block indentation levels + block indicators on the
 * line (`-`, `?`, `:`; each can open a compact collection) + open flow brackets. The estimate is
 * at least half the real depth (a zero-indented sequence adds a level without adding indentation)
 * and at most a couple of levels above it, so callers allow twice their data limit here.
 */
export function checkNestingBeforeParsing(text: string, limit: number): NestingProblem | undefined {
  const indents: number[] = [];
  let flowDepth = 0;
  let indicatorsOnLine = 0;
  let indent = 0;
  let atLineStart = true;
  let lineOpened = false;
  let line = 1;
  let document = -1;
  let documentOpen = false;
  let nextIsScalarSource = false;

  for (const token of new Lexer().lex(text)) {
    const newlines = countNewlines(token);
    if (nextIsScalarSource) {
      // The lexer emits a scalar as a marker followed by its source; a block scalar's source
      // ends with its last line break, so the next token starts a line.
      nextIsScalarSource = false;
      line += newlines;
      if (token.endsWith('\n')) [atLineStart, lineOpened, indent] = [true, false, 0];
      continue;
    }
    const type = CST.tokenType(token);
    line += newlines;
    if (type === 'newline') {
      [atLineStart, lineOpened, indent] = [true, false, 0];
      continue;
    }
    if (type === 'space') {
      if (atLineStart && !lineOpened) indent = token.length;
      continue;
    }
    if (type === null || IGNORED.has(type)) continue;
    if (type === 'doc-start' || type === 'doc-end') {
      indents.length = 0;
      flowDepth = 0;
      documentOpen = type === 'doc-start';
      if (documentOpen) document += 1;
      continue;
    }
    if (!documentOpen) {
      documentOpen = true;
      document += 1;
    }
    if (!lineOpened && flowDepth === 0) {
      while (indents.length > 0 && (indents.at(-1) ?? 0) >= indent) indents.pop();
      indents.push(indent);
      indicatorsOnLine = 0;
    }
    lineOpened = true;
    atLineStart = false;
    if (flowDepth === 0 && BLOCK_INDICATORS.has(type)) indicatorsOnLine += 1;
    if (type === 'flow-seq-start' || type === 'flow-map-start') flowDepth += 1;
    if ((type === 'flow-seq-end' || type === 'flow-map-end') && flowDepth > 0) flowDepth -= 1;
    if (type === 'scalar') nextIsScalarSource = true;
    const estimatedDepth = indents.length + indicatorsOnLine + flowDepth;
    if (estimatedDepth > limit) return { estimatedDepth, document: Math.max(document, 0), line };
  }
  return undefined;
}

function countNewlines(token: string): number {
  let count = 0;
  for (let i = token.indexOf('\n'); i !== -1; i = token.indexOf('\n', i + 1)) count += 1;
  return count;
}

/**
 * The first key that repeats an earlier key of the same mapping, compared as yaml does (scalar
 * keys by value and type: `1` and `"1"` differ). Linear: one Set per mapping. Recursion is bounded
 * because `checkNestingBeforeParsing` ran first; aliases are not followed (their target is checked
 * where it is defined).
 */
export function findDuplicateKey(doc: Document.Parsed): Node | undefined {
  return duplicateIn(doc.contents);
}

function duplicateIn(node: unknown): Node | undefined {
  if (isAlias(node) || !(isMap(node) || isSeq(node))) return undefined;
  if (isSeq(node)) {
    for (const item of node.items) {
      const found = duplicateIn(item);
      if (found) return found;
    }
    return undefined;
  }
  const seen = new Set<string>();
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    if (isScalar(pair.key)) {
      const identity = `${typeof pair.key.value}:${String(pair.key.value)}`;
      if (seen.has(identity)) return pair.key;
      seen.add(identity);
    }
    const found = duplicateIn(pair.key) ?? duplicateIn(pair.value);
    if (found) return found;
  }
  return undefined;
}

/**
 * The first mapping key `__proto__`, with the field path that leads to it. No JavaScript object
 * carries that key faithfully: wherever YAML becomes objects (yaml's own toJS, zod's records, a
 * spread, a merge) an assignment turns it into the object's prototype and it silently disappears.
 * Kubernetes refuses it as a label or annotation key anyway, so a bundle holding it is refused with
 * its place named. `constructor` and `prototype` are ordinary own keys and are kept.
 */
export function findPrototypeKey(doc: Document.Parsed): { key: Node; field: string } | undefined {
  return prototypeKeyIn(doc.contents, '');
}

function prototypeKeyIn(node: unknown, path: string): { key: Node; field: string } | undefined {
  if (isAlias(node) || !(isMap(node) || isSeq(node))) return undefined;
  if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const found = prototypeKeyIn(item, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const name = isScalar(pair.key) ? String(pair.key.value) : '?';
    const field = path ? `${path}.${name}` : name;
    if (isScalar(pair.key) && pair.key.value === '__proto__') return { key: pair.key, field };
    const found = prototypeKeyIn(pair.key, field) ?? prototypeKeyIn(pair.value, field);
    if (found) return found;
  }
  return undefined;
}
