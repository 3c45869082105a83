import { describe, expect, it } from 'vitest';
import type { DeployStep } from '#shared/delivery/model/plan.ts';
import { packRelease } from '#shared/delivery/model/release-packs.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { plan } from '../workflow/plans.ts';
import { deployStep, demoConfigMap, MemoryObjects } from './memory-objects.ts';

const configMap = (name: string, blob = 'x') => demoConfigMap(name, { blob });
const deploy = deployStep;

// Two steps on clusters a and b; a 20 KB object shared by every target, one object of each target's own.
const shared = configMap('shared', 'y'.repeat(20_000));
const rendered = plan([
  deploy('first', [
    { cluster: 'a', manifests: [shared, configMap('a1')] },
    { cluster: 'b', manifests: [shared, configMap('b1')] },
  ]),
  deploy('second', [{ cluster: 'a', manifests: [shared, configMap('a2')] }]),
]);
const packed = packRelease(rendered);
const target = (step: number, index: number) =>
  (packed.plan.steps[step] as DeployStep<{ cluster: string; packs: string[] }>).targets[index]!;

async function stored(options: ConstructorParameters<typeof ReleaseManifests>[1] = {}) {
  const objects = new MemoryObjects();
  const manifests = new ReleaseManifests(objects, options);
  await manifests.store(packed.packs);
  return { objects, manifests };
}

describe('ReleaseManifests', () => {
  it('stores every pack and reads a target back whole', async () => {
    const { objects, manifests } = await stored();
    expect([...objects.objects.keys()].sort()).toEqual(packed.packs.map((p) => p.digest).sort());
    expect(await manifests.manifestsOf(target(0, 0))).toEqual([shared, configMap('a1')]);
  });

  it('reads a pack once per instance: tasks of other clusters read only their own pack', async () => {
    const { objects, manifests } = await stored();
    await manifests.manifestsOf(target(0, 0));
    await manifests.manifestsOf(target(0, 1));
    await manifests.manifestsOf(target(0, 0));
    expect(objects.reads).toEqual([target(0, 0).packs[0], target(0, 0).packs[1], target(0, 1).packs[1]]);
  });

  it('shares one read between concurrent callers', async () => {
    const { objects, manifests } = await stored();
    await Promise.all([manifests.manifestsOf(target(0, 0)), manifests.manifestsOf(target(0, 0)), manifests.manifestsOf(target(1, 0))]);
    expect(objects.reads.filter((d) => d === target(0, 0).packs[0])).toHaveLength(1);
  });

  it('keeps at most cacheBytes of packs, dropping the least recently used', async () => {
    const size = (digest: string) => packed.packs.find((p) => p.digest === digest)!.data.byteLength;
    // Room for the shared pack and one small one: reading b's pack drops a's, the least recently used.
    const { objects, manifests } = await stored({ cacheBytes: size(target(0, 0).packs[0]!) + size(target(0, 0).packs[1]!) });
    await manifests.manifestsOf(target(0, 0));
    await manifests.manifestsOf(target(0, 1));
    await manifests.manifestsOf(target(0, 1));
    expect(objects.reads).toHaveLength(3);
    await manifests.manifestsOf(target(0, 0));
    expect(objects.reads).toHaveLength(4);
  });

  it('hands out frozen manifests: a caller cannot change what the next one gets', async () => {
    const { manifests } = await stored();
    const [first] = await manifests.manifestsOf(target(0, 0));
    expect(() => {
      (first!.metadata as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  it('what garbage collection keeps on a cluster: its packs of every step, none of another cluster', async () => {
    const { objects, manifests } = await stored();
    const desired = await manifests.desiredOn(packed.plan, 'a');
    expect(desired.map((o) => o.metadata.name).sort()).toEqual(['a1', 'a2', 'shared']);
    expect(objects.reads).not.toContain(target(0, 1).packs[1]);
    expect(await manifests.desiredOn(packed.plan, 'nowhere')).toEqual([]);
  });

  it('refuses a tampered pack with the integrity error and does not remember it: once repaired, it is read again', async () => {
    const { objects, manifests } = await stored();
    const digest = target(0, 0).packs[1]!;
    const good = objects.objects.get(digest)!;
    objects.objects.set(digest, new TextEncoder().encode(new TextDecoder().decode(good).replace('"a1"', '"evil"')));
    await expect(manifests.manifestsOf(target(0, 0))).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringContaining(digest),
    });
    objects.objects.set(digest, good);
    expect((await manifests.manifestsOf(target(0, 0))).map((o) => o.metadata.name)).toEqual(['shared', 'a1']);
  });
});
