import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctions, FUNCTIONS } from '../../scripts/build.ts';

/**
 * `npm run build`: each function's bundle is self-contained. Copied alone into an empty folder
 * (no node_modules anywhere above it), it loads and its handler answers an event from events/.
 */
const ENV = {
  ...process.env,
  TRICENTER_REGION: 'cn-hangzhou',
  TRICENTER_BUCKET: 'tricenter-bundles',
  TRICENTER_OTS_INSTANCE: 'tricenter',
  TRICENTER_APPROVAL_TOKENS: 'ops:approver:0123456789abcdef0123',
};

describe('function bundles', () => {
  let out: string;
  let isolated: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'tricenter-dist-'));
    await buildFunctions(out);
    isolated = mkdtempSync(join(tmpdir(), 'tricenter-isolated-'));
    for (const name of FUNCTIONS) cpSync(join(out, name), join(isolated, name), { recursive: true });
  }, 240_000);
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(isolated, { recursive: true, force: true });
  });

  const runIn = (name: string, script: string): string =>
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(isolated, name),
      env: ENV,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it.each(FUNCTIONS)('%s loads with no node_modules and exports index.handler', (name) => {
    expect(runIn(name, "const m = await import('./index.mjs'); console.log(typeof m.handler);").trim()).toBe('function');
  });

  it('approval answers an HTTP trigger event without credentials with 401 (no cloud call needed)', () => {
    const event = JSON.parse(readFileSync('events/http-status.json', 'utf8')) as { headers: Record<string, string> };
    event.headers = { Accept: 'application/json' };
    const script = `const { handler } = await import('./index.mjs');
      const r = await handler(Buffer.from(${JSON.stringify(JSON.stringify(event))}), { requestId: 'r1', accountId: '1234567890123456', credentials: { accessKeyId: 'a', accessKeySecret: 'b', securityToken: 'c' } });
      process.stdout.write(JSON.stringify(r));`;
    const response = JSON.parse(runIn('approval', script).trim().split('\n').pop() ?? '{}') as { statusCode: number; body: string };
    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'UNAUTHORIZED' });
  });

  it('deploy-step refuses a malformed event with a zod error naming the field', () => {
    const script = `const { handler } = await import('./index.mjs');
      try { await handler(Buffer.from('{"runId":"r","step":"s","cluster":"c","attempt":0,"key":"k"}'), { requestId: 'r1', accountId: '1', credentials: { accessKeyId: 'a', accessKeySecret: 'b' } }); console.log('no error'); }
      catch (err) { console.log(String(err.message)); }`;
    expect(runIn('deploy-step', script)).toMatch(/attempt/);
  });
});
