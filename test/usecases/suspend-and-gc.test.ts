import { describe, expect, it } from 'vitest';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { ObjectRef } from '#shared/delivery/model/kube.ts';
import type { Plan } from '#shared/delivery/model/plan.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { collectGarbage } from '#shared/delivery/usecases/effects.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { sweepRuns } from '#shared/delivery/usecases/sweep.ts';
import { plan, suspendStep } from '../workflow/plans.ts';
import { deployStep, demoConfigMap, MemoryObjects } from './memory-objects.ts';
import { startRendered } from './start-release.ts';

/**
 * A suspend step's duration and timeout at run time: the sweep (the timer) ticks every run with the
 * injected clock, so a timed suspension resumes and a timed-out one fails without anyone deciding.
 * And a garbage-collect policy with keepLegacyResource: the finished run prunes nothing.
 */
const registry: ClusterRegistry = { clusters: [{ name: 'a', aliases: [], labels: {} }] };

async function setUp(rendered: Plan) {
  const pruned: string[] = [];
  const sent: string[] = [];
  const gateway = {
    prune: async (cluster: string, _app: unknown, _keep: ObjectRef[]) => {
      pruned.push(cluster);
      return [];
    },
  } as unknown as ClusterGateway;
  const clock = new ManualClock(1_000);
  const deps: WorkflowDeps = {
    store: new SqliteRunStore({ path: ':memory:' }),
    queue: {
      send: async (tasks) => {
        sent.push(...tasks.map((t) => t.key));
      },
    },
    gateway,
    bundles: undefined as never,
    manifests: new ReleaseManifests(new MemoryObjects()),
    registry: async () => registry,
    clock,
    logger: memoryLogger(),
    newId: () => 'run-1',
    healthWait: { totalMs: 0, pollMs: 1 },
  };
  const { run } = await startRendered(deps, rendered);
  return { deps, clock, run, pruned, sent };
}

const deployA = deployStep('deploy-a', [{ cluster: 'a', manifests: [demoConfigMap('one', { v: '1' })] }]);

describe('suspend duration and timeout through the sweep', () => {
  it('a timed suspension resumes by itself once the clock passes start + duration', async () => {
    const { deps, clock, run, sent } = await setUp(plan([suspendStep('soak', 30_000), deployA]));
    clock.set(1_000 + 29_999);
    await sweepRuns(deps);
    expect((await deps.store.getRun(run.id))?.steps[0]?.phase).toBe('suspended');
    expect(sent).toEqual([]);
    clock.set(1_000 + 30_000);
    await sweepRuns(deps);
    const after = await deps.store.getRun(run.id);
    expect(after?.steps.map((s) => s.phase)).toEqual(['succeeded', 'running']);
    expect(sent).toEqual(['run-1/deploy-a/a/1']);
  });

  it('a suspend step with a 5 s timeout fails at 5 s; 60 s later it is still failed, never approved', async () => {
    const { deps, clock, run, sent } = await setUp(plan([suspendStep('gate', undefined, 5_000), deployA]));
    clock.set(1_000 + 5_000);
    await sweepRuns(deps);
    clock.set(1_000 + 60_000);
    await sweepRuns(deps);
    const after = await deps.store.getRun(run.id);
    expect(after).toMatchObject({
      phase: 'workflowFailed',
      reason: 'step "gate" was suspended longer than its timeout of 5s without a decision',
    });
    expect(after?.steps.map((s) => s.phase)).toEqual(['failed', 'skipped']);
    expect(after?.decisions).toEqual([]);
    expect(sent).toEqual([]);
  });
});

describe('garbage-collect keepLegacyResource', () => {
  it('a run that ends well prunes nothing when the release keeps legacy resources', async () => {
    const { deps, run, pruned } = await setUp({ ...plan([deployA]), keepLegacyResources: true });
    await collectGarbage(deps, run);
    expect(pruned).toEqual([]);
  });

  it('and prunes as usual without it', async () => {
    const { deps, run, pruned } = await setUp(plan([deployA]));
    await collectGarbage(deps, run);
    expect(pruned).toEqual(['a']);
  });
});
