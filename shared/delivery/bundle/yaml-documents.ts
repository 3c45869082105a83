/**
 * Parses the text of one YAML file into bundle documents, strictly: duplicate keys, unresolved
 * tags, excessive aliasing and a `__proto__` key are errors, and every document must be a mapping. Documents are
 * composed one at a time so that the document limit stops a file of a million tiny documents
 * before it is all built; nesting is bounded before the (recursive) composer runs, and duplicate
 * keys are found in linear time (see yaml-guards.ts).
 */
import { Composer, isScalar, LineCounter, Parser, YAMLError, type Document } from 'yaml';
import { BundleError } from '#shared/platform/errors.ts';
import type { BundleLimits } from './limits.ts';
import { parseJsonDocuments } from './json-documents.ts';
import { checkNestingBeforeParsing, findDuplicateKey, findPrototypeKey } from './yaml-guards.ts';
import { MAX_YAML_REPAIRS, repairYaml } from './yaml-tolerance.ts';

export interface ParsedYamlDocument {
  index: number;
  line: number;
  value: Record<string, unknown>;
}

type DocumentLocation = { file: string; document: number };

export interface YamlParseContext {
  limits: Required<BundleLimits>;
  /** Documents already read from earlier files of the same bundle. */
  documentsSoFar: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes a file as UTF-8 (the encoding YAML 1.2 and Kubernetes use); invalid bytes are an error. */
export function decodeYamlText(file: string, bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch (cause) {
    throw new BundleError('is not valid UTF-8 text', { file }, { cause });
  }
}

export function parseYamlDocuments(file: string, text: string, context: YamlParseContext): ParsedYamlDocument[] {
  // A file of plain JSON documents is read by JSON.parse; anything else, and every error, by the YAML parser.
  return parseJsonDocuments(text, context) ?? parseYamlText(file, text, context);
}

/** parseYamlDocuments without the JSON fast path: what decides, and what the fast path must agree with. */
export function parseYamlText(file: string, text: string, context: YamlParseContext): ParsedYamlDocument[] {
  let current = text;
  let firstError: unknown;
  for (let repairs = 0; ; repairs += 1) {
    try {
      return parseOnce(file, current, context);
    } catch (err) {
      firstError ??= err;
      // A quoted scalar continued at its key's indentation (libyaml accepts it): indent it and parse again.
      const problem = syntaxProblemOf(err);
      const repaired = problem === undefined || repairs >= MAX_YAML_REPAIRS ? undefined : repairYaml(current, problem);
      // After a repair, a syntax error is reported as the text was written; any other refusal (a limit) as it is.
      if (repaired === undefined) throw repairs > 0 && isSyntaxError(err) ? firstError : err;
      current = repaired;
    }
  }
}

function isSyntaxError(err: unknown): boolean {
  return err instanceof BundleError && (err as { cause?: unknown }).cause instanceof YAMLError;
}

/** The strict parser's own error behind `err`, when it is a syntax error. */
function syntaxProblemOf(err: unknown): YAMLError | undefined {
  const cause = err instanceof BundleError ? (err as { cause?: unknown }).cause : undefined;
  return cause instanceof YAMLError ? cause : undefined;
}

function parseOnce(file: string, text: string, context: YamlParseContext): ParsedYamlDocument[] {
  const { limits } = context;
  const tooDeep = checkNestingBeforeParsing(text, 2 * limits.maxDepth);
  if (tooDeep) {
    throw new BundleError(
      `collections nest about ${tooDeep.estimatedDepth} levels deep at line ${tooDeep.line}: exceeds the nesting depth limit maxDepth = ${limits.maxDepth}`,
      { file, document: tooDeep.document },
      { code: 'BUNDLE_TOO_LARGE' },
    );
  }
  const valueBudget: ValueBudget = { remaining: text.length + limits.maxAliasExpansion };
  const lineCounter = new LineCounter();
  // `merge`: `<<: *anchor` merges the anchor's keys, as kubectl's YAML library does (the value budget still counts them).
  const composer = new Composer({ uniqueKeys: false, schema: 'core', merge: true, lineCounter, prettyErrors: false });
  const documents: ParsedYamlDocument[] = [];
  let index = -1;
  try {
    for (const doc of composer.compose(new Parser(lineCounter.addNewLine).parse(text), true)) {
      index += 1;
      const line = lineCounter.linePos(doc.contents?.range[0] ?? doc.range[0]).line;
      const location = { file, document: index };
      const problem = doc.errors[0] ?? doc.warnings[0];
      if (problem) throw yamlError(problem, lineCounter, location);
      const duplicate = findDuplicateKey(doc);
      if (duplicate) {
        const { line: keyLine, col } = lineCounter.linePos(duplicate.range?.[0] ?? 0);
        throw new BundleError(`duplicate key ${JSON.stringify(String(duplicate))} at line ${keyLine}, column ${col}`, location);
      }
      const prototypeKey = findPrototypeKey(doc);
      if (prototypeKey) {
        const { line: keyLine, col } = lineCounter.linePos(prototypeKey.key.range?.[0] ?? 0);
        throw new BundleError(
          `the key "__proto__" at line ${keyLine}, column ${col} is not accepted: it cannot be kept as data (it would silently vanish), and Kubernetes refuses it as a label or annotation key`,
          { ...location, field: prototypeKey.field },
        );
      }
      if (isEmptyDocument(doc)) continue;
      if (context.documentsSoFar + documents.length + 1 > limits.maxDocuments) {
        throw new BundleError(
          `the bundle has more than ${limits.maxDocuments} YAML documents: exceeds the number of YAML documents limit maxDocuments = ${limits.maxDocuments}`,
          location,
          { code: 'BUNDLE_TOO_LARGE' },
        );
      }
      const value = toPlainValue(doc, location, limits, valueBudget);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new BundleError(`the document starting at line ${line} is ${describeKind(value)}, expected a mapping (key: value)`, location);
      }
      documents.push({ index, line, value: value as Record<string, unknown> });
    }
  } catch (err) {
    if (err instanceof BundleError) throw err;
    // Not expected once nesting is bounded, but whatever yaml throws must still name the place.
    throw new BundleError(`could not be parsed as YAML: ${(err as Error).message}`, { file, document: Math.max(index, 0) }, { cause: err });
  }
  return documents;
}

function isEmptyDocument(doc: Document.Parsed): boolean {
  // `---` alone or a document of only comments composes to an empty plain scalar; an explicit
  // `null` or `~` has source text and is reported as "not a mapping".
  const contents = doc.contents;
  return contents === null || (isScalar(contents) && contents.value === null && contents.source === '');
}

function yamlError(problem: YAMLError, lineCounter: LineCounter, location: DocumentLocation): BundleError {
  const { line, col } = lineCounter.linePos(problem.pos[0]);
  const what = problem.code === 'TAG_RESOLVE_FAILED' ? 'unsupported YAML tag' : 'YAML syntax error';
  return new BundleError(`${what} at line ${line}, column ${col}: ${problem.message.split('\n')[0]}`, location, { cause: problem });
}

/**
 * How many data values one file may still produce. Without aliases every value needs at least one
 * character of text, so the file's length is a natural bound; aliases may add maxAliasExpansion more.
 */
interface ValueBudget {
  remaining: number;
}

function toPlainValue(doc: Document.Parsed, location: DocumentLocation, limits: Required<BundleLimits>, budget: ValueBudget): unknown {
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (cause) {
    if (cause instanceof ReferenceError && /alias/i.test(cause.message)) {
      throw new BundleError(
        `YAML aliases expand too much: exceeds the YAML alias count limit maxAliasCount = ${limits.maxAliasCount} (${cause.message})`,
        location,
        { code: 'BUNDLE_TOO_LARGE', cause },
      );
    }
    throw new BundleError(`could not be converted to data: ${(cause as Error).message}`, location, { cause });
  }
  return new PlainCopy(location, limits, budget).copy(raw, 0);
}

/**
 * A deep copy: aliases in YAML become shared references in yaml's output, and the renderer
 * patches objects in place, so every document gets its own tree. The copy also enforces the
 * nesting limit and the value budget (yaml's maxAliasCount alone lets 100 aliases each repeat an
 * anchor of 100,000 values). Recursion is safe because the depth is checked before each step down.
 */
class PlainCopy {
  constructor(
    private readonly location: DocumentLocation,
    private readonly limits: Required<BundleLimits>,
    private readonly budget: ValueBudget,
  ) {}

  copy(value: unknown, depth: number): unknown {
    this.budget.remaining -= 1;
    if (this.budget.remaining < 0) {
      throw new BundleError(
        `YAML aliases expand the data too much: exceeds the alias expansion limit maxAliasExpansion = ${this.limits.maxAliasExpansion} values`,
        this.location,
        { code: 'BUNDLE_TOO_LARGE' },
      );
    }
    if (value === null || typeof value !== 'object') return value;
    const { maxDepth } = this.limits;
    if (depth >= maxDepth) {
      throw new BundleError(
        `data is nested deeper than ${maxDepth} levels: exceeds the nesting depth limit maxDepth = ${maxDepth}`,
        this.location,
        {
          code: 'BUNDLE_TOO_LARGE',
        },
      );
    }
    if (Array.isArray(value)) return value.map((item) => this.copy(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment: a `__proto__` key must stay data, never a prototype.
      Object.defineProperty(copy, key, { value: this.copy(item, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a sequence';
  return `a ${typeof value} (${JSON.stringify(value)?.slice(0, 40)})`;
}
