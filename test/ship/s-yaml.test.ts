import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import Ajv from 'ajv';

/**
 * `s deploy` resolves `${...}` expressions itself; we substitute sample values, then validate
 * every fc3 resource's props against the published fc3 schema (test/fixtures/fc3-props.schema.json).
 */
const SAMPLE = (expr: string): string => {
  const env = /^env\('([A-Z_]+)'(?:,\s*'([^']*)')?\)$/.exec(expr);
  if (env) return env[2] ?? `sample-${env[1]}`;
  if (expr === "config('AccountID')") return '1234567890123456';
  return `sample-${expr}`;
};

function substitute(text: string, vars: Record<string, unknown>): unknown {
  const resolved = text.replace(/\$\{([^}]+)\}/g, (_m, expr: string) => {
    const trimmed = expr.trim();
    if (trimmed.startsWith('vars.')) {
      const value = vars[trimmed.slice(5)];
      return typeof value === 'string' ? value : `__VAR_${trimmed.slice(5)}__`;
    }
    return SAMPLE(trimmed);
  });
  return parse(resolved);
}

describe('s.yaml', () => {
  const raw = readFileSync('s.yaml', 'utf8');
  const first = parse(raw) as { vars: Record<string, unknown> };
  const vars = Object.fromEntries(
    Object.entries(first.vars).map(([k, v]) => [k, typeof v === 'string' ? (substitute(v, {}) as string) : v]),
  );
  const doc = substitute(raw, vars) as {
    edition: string;
    resources: Record<string, { component: string; props: Record<string, unknown> }>;
  };
  // Object-valued vars are inlined by Serverless Devs; mirror that.
  for (const resource of Object.values(doc.resources)) {
    if (resource.props.environmentVariables === '__VAR_environment__') resource.props.environmentVariables = substitute(JSON.stringify(first.vars.environment), {});
  }
  const schema = JSON.parse(readFileSync('test/fixtures/fc3-props.schema.json', 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('is edition 3.0.0 with the four functions on fc3 / nodejs20', () => {
    expect(doc.edition).toBe('3.0.0');
    expect(Object.keys(doc.resources).sort()).toEqual(['approval', 'bundle-ingest', 'deploy-step', 'gtm-reconcile']);
    for (const resource of Object.values(doc.resources)) {
      expect(resource.component).toBe('fc3');
      expect(resource.props.runtime).toBe('nodejs20');
    }
  });

  it.each(['approval', 'bundle-ingest', 'deploy-step', 'gtm-reconcile'])('%s props satisfy the published fc3 schema', (name) => {
    const props = doc.resources[name]?.props;
    const ok = validate(props);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('wires each trigger as the design says', () => {
    const triggers = (name: string) => (doc.resources[name]?.props.triggers ?? []) as Array<{ triggerType: string; triggerConfig: Record<string, unknown> }>;
    const ossSuffixes = triggers('bundle-ingest').map((t) => (t.triggerConfig.filter as { key: { suffix: string } }).key.suffix);
    expect(ossSuffixes.sort()).toEqual(['.tar.gz', '.tgz', '.yaml', '.yml', '.zip']);
    expect(triggers('approval')[0]).toMatchObject({ triggerType: 'http', triggerConfig: { authType: 'anonymous' } });
    expect(triggers('gtm-reconcile')[0]).toMatchObject({ triggerType: 'timer', triggerConfig: { cronExpression: '@every 1m', enable: true } });
    expect(doc.resources['deploy-step']?.props.asyncInvokeConfig).toMatchObject({ maxAsyncRetryAttempts: 2, destinationConfig: { onFailure: {} } });
  });
});
