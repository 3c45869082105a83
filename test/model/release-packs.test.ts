import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { parseBundle } from '#shared/delivery/model/bundle.ts';
import { canonicalJson } from '#shared/delivery/model/canonical.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { ClusterTarget, DeployStep, Plan, ReleasePlan, StoredTarget } from '#shared/delivery/model/plan.ts';
import { MAX_PACKS_PER_TARGET, packRelease, unpack, type ReleasePack } from '#shared/delivery/model/release-packs.ts';
import { render } from '#shared/delivery/render/render.ts';
import { bigBundle, type BigBundleOptions } from '../helpers/big-bundle.ts';
import { plan as planOf, suspendStep } from '../workflow/plans.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

async function renderBig(options: BigBundleOptions): Promise<Plan> {
  const files = bigBundle(options);
  const bundle = parseBundle(await loadBundleBytes('bundles/big/big-app.yaml', bytes(files.app)));
  return render(bundle, parseClusterRegistry(await loadBundleBytes('clusters.yaml', bytes(files.clusters))));
}

const deployTargets = <T extends { cluster: string }>(plan: Plan<T>): T[] =>
  plan.steps.flatMap((s) => (s.type === 'deploy' ? s.targets : []));

/** A target's manifests read back from its packs, as a sorted list of canonical JSON (apply order within a tier is free). */
function readBack(target: StoredTarget, packs: Map<string, ReleasePack>): string[] {
  return target.packs
    .flatMap((digest) => unpack(digest, packs.get(digest)!.data))
    .map(canonicalJson)
    .sort();
}

function assertRoundTrip(plan: Plan, packed: { plan: ReleasePlan; packs: ReleasePack[] }): void {
  const byDigest = new Map(packed.packs.map((p) => [p.digest, p]));
  const rendered = deployTargets(plan);
  const stored = deployTargets(packed.plan);
  expect(stored.map((t) => t.cluster)).toEqual(rendered.map((t) => t.cluster));
  rendered.forEach((target, i) => {
    expect(readBack(stored[i]!, byDigest)).toEqual(target.manifests.map(canonicalJson).sort());
  });
}

const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'demo' },
  data,
});

function deploy(name: string, targets: ClusterTarget[]): DeployStep {
  return { name, type: 'deploy', needsApproval: false, parallelism: 5, timeoutMs: 600_000, targets };
}

describe('packRelease', () => {
  it('stores an object shared by every cluster once: with an override per cluster, each cluster reads two packs', async () => {
    const plan = await renderBig({ components: 200, clusters: 10, overrides: 'same' });
    const packed = packRelease(plan);
    assertRoundTrip(plan, packed);
    const targets = deployTargets(packed.plan);
    expect(targets.every((t) => t.packs.length === 2)).toBe(true);
    expect(new Set(targets.map((t) => t.packs[0])).size).toBe(1);
    // 199 shared objects once, plus each cluster's own version of cm-0.
    expect(packed.packs.map((p) => p.objects).sort((a, b) => b - a)).toEqual([199, ...Array(10).fill(1)]);
  });

  it('with overrides scattered over components, still two packs per cluster: small shared leftovers are copied into each own pack', async () => {
    const plan = await renderBig({ components: 200, clusters: 10, overrides: 'scattered' });
    const packed = packRelease(plan);
    assertRoundTrip(plan, packed);
    expect(deployTargets(packed.plan).every((t) => t.packs.length === 2)).toBe(true);
    expect(packed.packs.map((p) => p.objects).sort((a, b) => b - a)).toEqual([190, ...Array(10).fill(10)]);
  });

  it('bounds the packs a target reads when many heavy groups are shared by different sets of clusters', () => {
    // 12 clusters; group g (heavy) is on every cluster but g: each cluster sees 11 shared groups plus its own object.
    const heavy = (g: number) => Array.from({ length: 4 }, (_, i) => configMap(`g${g}-${i}`, { blob: `${g}`.repeat(6_000) }));
    const targets = Array.from({ length: 12 }, (_, c) => ({
      cluster: `c${c}`,
      manifests: [
        ...Array.from({ length: 12 }, (_, g) => g)
          .filter((g) => g !== c)
          .flatMap(heavy),
        configMap(`own-${c}`, { c: `${c}` }),
      ],
    }));
    const plan = planOf([deploy('all', targets)]);
    const packed = packRelease(plan);
    assertRoundTrip(plan, packed);
    for (const target of deployTargets(packed.plan)) expect(target.packs.length).toBeLessThanOrEqual(MAX_PACKS_PER_TARGET);
    for (const target of deployTargets(packRelease(plan, 3).plan)) expect(target.packs.length).toBeLessThanOrEqual(3);
  });

  it('is deterministic, keeps suspend steps and metadata, and names each pack by the sha256 of its canonical JSON', () => {
    const shared = configMap('shared', { big: 'x'.repeat(20_000) });
    const plan = {
      ...planOf([
        deploy('one', [
          { cluster: 'a', manifests: [shared, configMap('a', { v: '1' })] },
          { cluster: 'b', manifests: [shared] },
        ]),
        suspendStep('pause', 5_000),
      ]),
      traffic: [],
    };
    const first = packRelease(plan);
    expect(packRelease(structuredClone(plan))).toEqual(first);
    expect(first.plan).toMatchObject({ app: plan.app, publishVersion: plan.publishVersion, contentHash: plan.contentHash, traffic: [] });
    expect(first.plan.steps[1]).toEqual(suspendStep('pause', 5_000));
    for (const pack of first.packs) {
      expect(pack.digest).toBe(createHash('sha256').update(pack.data).digest('hex'));
      expect(new TextDecoder().decode(pack.data)).toBe(canonicalJson(JSON.parse(new TextDecoder().decode(pack.data))));
    }
    expect(deployTargets(first.plan)).toEqual([
      { cluster: 'a', packs: [first.packs[0]!.digest, first.packs[1]!.digest] },
      { cluster: 'b', packs: [first.packs[0]!.digest] },
    ]);
  });
});

describe('unpack', () => {
  const pack = packRelease(planOf([deploy('one', [{ cluster: 'a', manifests: [configMap('a', { v: '1' })] }])])).packs[0]!;

  it('gives back the manifests of an intact pack', () => {
    expect(unpack(pack.digest, pack.data)).toEqual([configMap('a', { v: '1' })]);
  });

  it('refuses a tampered pack, naming the digest and what the bytes hash to', () => {
    const tampered = bytes(new TextDecoder().decode(pack.data).replace('"v":"1"', '"v":"2"'));
    const refused = (() => {
      try {
        return unpack(pack.digest, tampered);
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(TricenterError);
    expect(refused).toMatchObject({ code: 'INTEGRITY', retryable: false });
    expect((refused as Error).message).toContain(`release object ${pack.digest} failed its integrity check`);
    expect((refused as Error).message).toContain(createHash('sha256').update(tampered).digest('hex'));
  });

  it('refuses bytes that hash right but are not a list of manifests', () => {
    const data = bytes('{"kind":"ConfigMap"}');
    expect(() => unpack(createHash('sha256').update(data).digest('hex'), data)).toThrow(/is not a list of manifests/);
  });
});
