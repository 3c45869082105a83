import { describe, expect, it } from 'vitest';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { ObjectRef } from '#shared/delivery/model/kube.ts';
import type { DeployStep } from '#shared/delivery/model/plan.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { collectGarbage } from '#shared/delivery/usecases/effects.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { appStatus } from '#shared/delivery/usecases/status.ts';
import { plan } from '../workflow/plans.ts';
import { deployStep, demoConfigMap, MemoryObjects } from './memory-objects.ts';
import { startRendered } from './start-release.ts';

/** Garbage collection and status read what they need of a release, and nothing a tampered object could mislead. */
const configMap = (name: string) => demoConfigMap(name, { v: name });
const deploy = deployStep;
const rendered = plan([
  deploy('first', [{ cluster: 'a', manifests: [configMap('one'), configMap('a')] }]),
  deploy('second', [{ cluster: 'b', manifests: [configMap('one'), configMap('b')] }]),
]);
const registry: ClusterRegistry = { clusters: ['a', 'b', 'gone'].map((name) => ({ name, aliases: [], labels: {} })) };

async function setUp() {
  const objects = new MemoryObjects();
  const pruned = new Map<string, ObjectRef[]>();
  const gateway = {
    prune: async (cluster: string, _app: unknown, keep: ObjectRef[]) => {
      pruned.set(cluster, keep);
      return [];
    },
    workloads: async () => [],
  } as unknown as ClusterGateway;
  const logger = memoryLogger();
  const deps: WorkflowDeps = {
    store: new SqliteRunStore({ path: ':memory:' }),
    queue: { send: async () => {} },
    gateway,
    bundles: undefined as never,
    manifests: new ReleaseManifests(objects),
    registry: async () => registry,
    clock: new ManualClock(1_000),
    logger,
    newId: () => 'run-1',
    healthWait: { totalMs: 0, pollMs: 1 },
  };
  const { run, packed } = await startRendered(deps, rendered);
  objects.reads.length = 0;
  return { deps, objects, pruned, logger, run, packed };
}

describe('garbage collection and status read the release objects they need', () => {
  it('keeps on each cluster what the release deploys there, and prunes a cluster the release left entirely', async () => {
    const { deps, pruned, run } = await setUp();
    await collectGarbage(deps, run);
    const names = (cluster: string) =>
      pruned
        .get(cluster)
        ?.map((r) => r.name)
        .sort();
    expect(names('a')).toEqual(['a', 'one']);
    expect(names('b')).toEqual(['b', 'one']);
    expect(names('gone')).toEqual([]);
  });

  it('prunes nothing on a cluster whose release object was tampered with (an incomplete keep list would delete live objects)', async () => {
    const { deps, objects, pruned, logger, run, packed } = await setUp();
    const digestOfA = (packed.plan.steps[0] as DeployStep<{ cluster: string; packs: string[] }>).targets[0]!.packs[0]!;
    objects.objects.set(digestOfA, new TextEncoder().encode('[]'));
    await collectGarbage(deps, run);
    expect(pruned.has('a')).toBe(false);
    expect(
      pruned
        .get('b')
        ?.map((r) => r.name)
        .sort(),
    ).toEqual(['b', 'one']);
    expect(logger.lines.find((l) => l.msg === 'prune skipped for this cluster')).toMatchObject({
      cluster: 'a',
      error: expect.stringContaining('failed its integrity check'),
    });
  });

  it('status lists the clusters of the release without reading a single release object', async () => {
    const { deps, objects } = await setUp();
    const status = await appStatus(deps, rendered.app);
    expect(status?.clusters.map((c) => c.cluster)).toEqual(['a', 'b']);
    expect(objects.reads).toEqual([]);
  });
});
