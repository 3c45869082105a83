import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `npm run invoke`: a handler run locally against a fresh local twin, with the samples in events/. */
const invoke = (fn: string, event: string): unknown =>
  JSON.parse(
    execFileSync(process.execPath, ['bin/run-ts.mjs', 'scripts/invoke.ts', fn, event], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  );

describe('npm run invoke', () => {
  it('runs bundle-ingest on the OSS sample: the run starts', () => {
    expect(invoke('bundle-ingest', 'events/oss-bundle-uploaded.json')).toEqual([
      expect.objectContaining({ outcome: 'run-started', releaseId: expect.stringMatching(/^demo\/web-demo\/version8\/[0-9a-f]{12}$/) }),
    ]);
  });

  it('runs approval on the HTTP sample: authenticated, and the fresh twin knows no application yet', () => {
    const response = invoke('approval', 'events/http-status.json') as { statusCode: number; body: string };
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'NOT_FOUND', message: 'application demo/web-demo is unknown' });
  });
});
