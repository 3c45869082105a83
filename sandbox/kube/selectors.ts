import { badRequest } from './status.ts';

/**
 * Label and field selectors as the API server parses them (`app=web,tier!=db`, `env in (a,b)`,
 * `!legacy`, `metadata.name=x`). A selector that does not parse is a 400 BadRequest, with
 * kube-apiserver's wording where clients show it.
 */
type Requirement =
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'notexists' };

export type LabelSelector = Requirement[];

/** Splits on commas that are not inside parentheses. */
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(input.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(input.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, raw: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${raw}"`);
  return key;
}

function checkValue(value: string, raw: string): string {
  if (!VALUE.test(value) || value.length > 63)
    throw badRequest(`unable to parse requirement: invalid label value: "${value}" in selector "${raw}"`);
  return value;
}

export function parseLabelSelector(raw: string): LabelSelector {
  return splitTerms(raw).map((term): Requirement => {
    const setMatch = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
    if (setMatch) {
      const values = (setMatch[3] ?? '').split(',').map((v) => checkValue(v.trim(), raw));
      return { key: checkKey(setMatch[1] ?? '', raw), op: setMatch[2] === 'in' ? 'in' : 'notin', values };
    }
    const unbracketed = /^\S+\s+(?:in|notin)\s+([^(\s]\S*)/.exec(term);
    if (unbracketed) throw badRequest(`unable to parse requirement: found '${unbracketed[1] ?? ''}' expected: '('`);
    const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (cmp) {
      return { key: checkKey(cmp[1] ?? '', raw), op: cmp[2] === '!=' ? 'neq' : 'eq', value: checkValue(cmp[3] ?? '', raw) };
    }
    if (term.startsWith('!')) return { key: checkKey(term.slice(1).trim(), raw), op: 'notexists' };
    if (/^\S+$/.test(term)) return { key: checkKey(term, raw), op: 'exists' };
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch covers every op (TypeScript checks it), so each path returns.
  return selector.every((req) => {
    const value = Object.hasOwn(have, req.key) ? have[req.key] : undefined;
    switch (req.op) {
      case 'eq':
        return value === req.value;
      case 'neq':
        return value !== req.value;
      case 'in':
        return value !== undefined && req.values.includes(value);
      case 'notin':
        return value === undefined || !req.values.includes(value);
      case 'exists':
        return value !== undefined;
      case 'notexists':
        return value === undefined;
    }
  });
}

/** A Kubernetes LabelSelector object (matchLabels + matchExpressions), as Deployments carry it. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export function selectorFromObject(obj: LabelSelectorObject): LabelSelector {
  const reqs: Requirement[] = Object.entries(obj.matchLabels ?? {}).map(([key, value]) => ({ key, op: 'eq', value }));
  for (const expr of obj.matchExpressions ?? []) {
    const op = expr.operator;
    if (op === 'In' || op === 'NotIn') reqs.push({ key: expr.key, op: op === 'In' ? 'in' : 'notin', values: expr.values ?? [] });
    else if (op === 'Exists') reqs.push({ key: expr.key, op: 'exists' });
    else if (op === 'DoesNotExist') reqs.push({ key: expr.key, op: 'notexists' });
  }
  return reqs;
}

export type FieldSelector = Array<{ field: string; op: 'eq' | 'neq'; value: string }>;

/** Only metadata.name and metadata.namespace, which every resource supports. */
export function parseFieldSelector(raw: string, supported: string[]): FieldSelector {
  return splitTerms(raw).map((term) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${raw}'; can't understand '${term}'`);
    const field = m[1] ?? '';
    if (!supported.includes(field)) throw badRequest(`"${field}" is not a known field selector: only "${supported.join('", "')}"`);
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] ?? '' };
  });
}

export function matchesFields(selector: FieldSelector, fields: Record<string, string>): boolean {
  return selector.every((req) => ((fields[req.field] ?? '') === req.value) === (req.op === 'eq'));
}
