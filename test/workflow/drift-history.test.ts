import { describe, expect, it } from 'vitest';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { MAX_DRIFT_EVENTS, recordDrift } from '#shared/delivery/workflow/drift-history.ts';
import type { DriftEvent, Run } from '#shared/delivery/workflow/run.ts';

const plan = { app: { namespace: 'demo', name: 'web' }, publishVersion: 'v1', contentHash: 'h', steps: [] };
const running = (): Run => ({ ...createRun({ id: 'r1', releaseId: 'rel', plan }, 0), phase: 'running', endedAt: 10 });
const event = (over: Partial<Omit<DriftEvent, 'at'>> = {}): Omit<DriftEvent, 'at'> => ({
  cluster: 'c1',
  object: 'v1 ConfigMap demo/web',
  state: 'modified',
  fields: ['data.a'],
  action: 'reported',
  reason: 'self-heal is off',
  ...over,
});

describe('recordDrift', () => {
  it('records only on a run that ended running', () => {
    for (const phase of ['runningWorkflow', 'workflowFailed', 'workflowTerminated', 'workflowSuspending'] as const) {
      const t = recordDrift({ ...running(), phase }, [event()], 100);
      expect(t.changed).toBe(false);
      expect(t.run.driftEvents).toBeUndefined();
    }
  });

  it('reports drift left alone once, and again when it changes', () => {
    const first = recordDrift(running(), [event()], 100).run;
    expect(first.driftEvents).toEqual([{ ...event(), at: 100 }]);
    expect(recordDrift(first, [event()], 200).changed).toBe(false);
    const changed = recordDrift(first, [event({ fields: ['data.b'] })], 200);
    expect(changed.changed).toBe(true);
    expect(changed.run.driftEvents).toHaveLength(2);
  });

  it('records a heal refused for the same reason once, and again when the reason changes', () => {
    const refused = event({ action: 'heal-failed', reason: 'FORBIDDEN: owned by demo/other' });
    const once = recordDrift(running(), [refused], 100).run;
    expect(recordDrift(once, [refused], 200).changed).toBe(false);
    expect(recordDrift(once, [{ ...refused, reason: 'UNREACHABLE' }], 200).run.driftEvents).toHaveLength(2);
  });

  it('records every heal, and a round tried again (same at) only once', () => {
    const healed = event({ action: 'healed', reason: 'applied again: data.a' });
    const once = recordDrift(running(), [healed], 100).run;
    expect(recordDrift(once, [healed], 100).changed).toBe(false);
    expect(recordDrift(once, [healed], 200).run.driftEvents).toHaveLength(2);
  });

  it('keeps the newest events only, so the run row stays small', () => {
    let run = running();
    for (let i = 0; i < MAX_DRIFT_EVENTS + 20; i++) run = recordDrift(run, [event({ action: 'healed', object: `o${i}` })], i).run;
    expect(run.driftEvents).toHaveLength(MAX_DRIFT_EVENTS);
    expect(run.driftEvents?.at(-1)?.object).toBe(`o${MAX_DRIFT_EVENTS + 19}`);
    expect(run.driftEvents?.[0]?.object).toBe('o20');
  });

  it('never mutates the run it was given', () => {
    const run = running();
    recordDrift(run, [event()], 1);
    expect(run.driftEvents).toBeUndefined();
  });
});
