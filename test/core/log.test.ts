import { describe, expect, it } from 'vitest';
import { memoryLogger } from '#shared/platform/log.ts';
import { BundleError, describeLocation } from '#shared/platform/errors.ts';

describe('logger', () => {
  it('writes the fixed shape and carries context into children', () => {
    const log = memoryLogger({ fn: 'deploy-step', requestId: 'req-1' });
    log.child({ runId: 'run-9' }).info('applied', { cluster: 'cluster1-beijing' });
    expect(log.lines).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'applied',
        fn: 'deploy-step',
        requestId: 'req-1',
        runId: 'run-9',
        cluster: 'cluster1-beijing',
      }),
    ]);
    expect(typeof log.lines[0]?.ts).toBe('number');
  });

  it('redacts secrets by key name, however deep', () => {
    const log = memoryLogger();
    log.info('connect', { ack: { accessKeySecret: 'xyz', region: 'cn-beijing' }, headers: { Authorization: 'Bearer abc' } });
    const line = JSON.stringify(log.lines[0]);
    expect(line).not.toContain('xyz');
    expect(line).not.toContain('Bearer abc');
    expect(line).toContain('cn-beijing');
  });
});

describe('errors', () => {
  it('names file, document, object and field', () => {
    const err = new BundleError('unknown trait type "foo"', {
      file: 'app.yaml',
      document: 3,
      object: 'Policy demo/x',
      field: 'properties.components[0].traits[0].type',
    });
    expect(err.message).toBe(
      'app.yaml (document 4, Policy demo/x) field properties.components[0].traits[0].type: unknown trait type "foo"',
    );
    expect(describeLocation(undefined)).toBe('');
  });
});
