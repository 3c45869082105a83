/**
 * KubeVela conformance: every case of the corpus (cases/*.yaml, format in corpus.ts) is loaded,
 * parsed and rendered exactly as `tricenter render` does, admitted for its tenant (names and
 * tenancy, the Application's namespace being the tenant), and compared with what KubeVela
 * produces, per cluster; or refused with the expected one-line error at the expected place.
 */
import { describe, expect, it } from 'vitest';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseBundle } from '#shared/delivery/model/bundle.ts';
import type { Plan, PlanStep } from '#shared/delivery/model/plan.ts';
import { render } from '#shared/delivery/render/render.ts';
import { manifestsByCluster } from '#shared/delivery/render/views.ts';
import { BundleError } from '#shared/platform/errors.ts';
import { admitRelease } from '#shared/tenancy/admission.ts';
import { tarGzBytes } from '../bundle/archives.ts';
import { bundleFiles, type ExpectedStep, loadCases, normalize } from './corpus.ts';

const cases = await loadCases();

async function renderCase(files: Record<string, string>): Promise<Plan> {
  const bundle = parseBundle(await loadBundleBytes('bundle.tar.gz', tarGzBytes(files)));
  if (!bundle.registry) throw new Error('a conformance case always has a registry');
  const plan = render(bundle, bundle.registry.registry);
  admitRelease({ tenant: plan.app.namespace, registry: bundle.registry.registry, plan, traffic: bundle.trafficPolicies });
  return plan;
}

/** The parts of a plan step a case asks about (name and type always; clusters and approval when it gives them). */
function stepView(step: PlanStep, wanted: ExpectedStep | undefined) {
  const row: Record<string, unknown> = { name: step.name, type: step.type };
  if (step.type !== 'deploy') return row;
  if (wanted?.clusters !== undefined) row.clusters = step.targets.map((t) => t.cluster);
  if (wanted?.needsApproval !== undefined) row.needsApproval = step.needsApproval;
  return row;
}

describe('KubeVela conformance corpus', () => {
  it('has at least 40 cases, each naming its source as a path inside the KubeVela repository', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) expect(c.source).not.toMatch(/^\/|\.\./);
  });

  for (const c of cases) {
    it(`${c.file}: ${c.source}`, async () => {
      const outcome = renderCase(bundleFiles(c));
      const { error, clusters, steps } = c.expect;
      if (error) {
        const err = await outcome.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, 'the case must be refused').toBeInstanceOf(BundleError);
        const bundleErr = err as BundleError;
        expect(bundleErr.message).toContain(error.message);
        if (error.file !== undefined) expect(bundleErr.location?.file).toBe(error.file);
        if (error.field !== undefined) expect(bundleErr.location?.field).toBe(error.field);
        return;
      }
      const plan = await outcome;
      if (clusters) {
        const byCluster = manifestsByCluster(plan);
        expect([...byCluster.keys()].sort()).toEqual(Object.keys(clusters).sort());
        for (const [cluster, objects] of Object.entries(clusters)) {
          expect((byCluster.get(cluster) ?? []).map(normalize), `cluster ${cluster}`).toEqual(objects);
        }
      }
      if (steps) expect(plan.steps.map((step, i) => stepView(step, steps[i]))).toEqual(steps);
    });
  }
});
