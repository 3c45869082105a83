import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalTwin, type LocalTwinOptions } from '#local/twin.ts';
import { silentLogger } from '#shared/platform/log.ts';

/**
 * The twin's GTM generation (`--gtm-version`): a state folder resumes only with the generation it
 * was started with, and says which one to ask for; the CLI refuses a generation that does not exist.
 */
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'tricenter-gtm-version-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (extra: Partial<LocalTwinOptions>): LocalTwinOptions => ({
  dir,
  clustersFile: 'examples/web-demo/clusters.yaml',
  readyDelayMs: 50,
  dataPlanePort: 0,
  approvalPort: 0,
  timerIntervalMs: 600_000,
  logger: silentLogger,
  ...extra,
});

describe('the twin GTM generation', () => {
  it('a folder started on GTM 3.0 refuses to resume as 2.0, naming the file and both ways out; as 3.0 it resumes the same instance', async () => {
    const first = await startLocalTwin(options({}));
    const instanceId = first.gtm.instanceId;
    expect(first.endpoints.gtm.gtmVersion).toBe('3.0');
    await first.stop();
    await expect(startLocalTwin(options({ gtmVersion: '2.0' }))).rejects.toThrow(
      new RegExp(`${join(dir, 'gtm-state.json')} holds a GTM 3.0 instance: start it with --gtm-version 3.0.*--fresh`),
    );
    const again = await startLocalTwin(options({ gtmVersion: '3.0' }));
    try {
      expect(again.resumed).toBe(true);
      expect([again.gtm.gtmVersion, again.gtm.instanceId]).toEqual(['3.0', instanceId]);
    } finally {
      await again.stop();
    }
    // --fresh starts over on the other generation.
    const fresh = await startLocalTwin(options({ gtmVersion: '2.0', fresh: true }));
    try {
      expect(fresh.gtm.gtmVersion).toBe('2.0');
      expect(fresh.gtm.state().pools).toEqual([]);
    } finally {
      await fresh.stop();
    }
  });

  it('`local up --gtm-version 4.0` is refused before anything starts or is written', async () => {
    const target = join(dir, 'never');
    const failed = await run(process.execPath, [
      'bin/tricenter.mjs',
      'local',
      'up',
      '--no-demo',
      '--gtm-version',
      '4.0',
      '--dir',
      target,
    ]).then(
      () => undefined,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr).toContain('--gtm-version must be 3.0 or 2.0, got "4.0"');
    expect(existsSync(target)).toBe(false);
  });
});
