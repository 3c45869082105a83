import { loadBundleBytes } from '../bundle/load.ts';
import { errorMessage, isTricenterError, TricenterError } from '../../platform/errors.ts';
import { parseBucketKey } from '../model/bucket-key.ts';
import { parseBundle } from '../model/bundle.ts';
import type { AppRef } from '../model/ownership.ts';
import type { Plan } from '../model/plan.ts';
import { packRelease } from '../model/release-packs.ts';
import type { IngestKey, IngestResult, Release } from '../model/records.ts';
import { render } from '../render/render.ts';
import { admitRelease } from '../../tenancy/admission.ts';
import type { WorkflowDeps } from './deps.ts';
import { refuseBadKey } from './rejected-uploads.ts';
import { recordFailedIngest, startReleaseRun } from './releases.ts';
import { uploaderOf } from './uploader.ts';
import { claimTrafficAtIngest } from '../../traffic/usecases/traffic-claims.ts';

/**
 * An uploaded bundle becomes a release and a run, once per bucket + key + eTag:
 * load, validate and render it (a bad bundle becomes a failed record, and nothing is applied);
 * the same publishVersion as the current release is a no-op; a new one starts a run and
 * terminates the one it replaces.
 */
export async function ingestBundle(deps: WorkflowDeps, source: IngestKey, uploader: { ossPrincipal?: string } = {}): Promise<IngestResult> {
  const log = deps.logger.child({ bucket: source.bucket, key: source.key, etag: source.etag });
  const claim = await deps.store.claimIngest(source, deps.clock.now());
  if (!claim.claimed) {
    log.info('duplicate upload event ignored', { status: claim.record.status, result: claim.record.result });
    return claim.record.result ?? { outcome: 'unchanged' };
  }

  const result = await ingestClaimed(deps, source, uploader.ossPrincipal).catch(async (err: unknown): Promise<IngestResult> => {
    if (!isBundleProblem(err)) throw err;
    const error = errorMessage(err);
    log.warn('bundle rejected', { error });
    const app = appFromKey(source.key);
    if (app) await recordFailedIngest(deps, app, { error, source, at: deps.clock.now() });
    return { outcome: 'failed', error };
  });
  await deps.store.completeIngest(claim.record, result, deps.clock.now());
  return result;
}

async function ingestClaimed(deps: WorkflowDeps, source: IngestKey, ossPrincipal: string | undefined): Promise<IngestResult> {
  const key = parseBucketKey(source.key);
  if (!key.ok) return refuseBadKey(deps, source, key.reason);
  const expected = key.app;
  const object = await deps.bundles.get(source.bucket, source.key, { ifMatch: source.etag });
  const bundle = parseBundle(await loadBundleBytes(source.key, object.data));
  const registry = await deps.registry();
  // The release carries its TrafficPolicies beside the rendered manifests: the GTM reconciler reads them from there.
  const plan = { ...render(bundle, registry), traffic: bundle.trafficPolicies.map((t) => t.policy) };
  if (expected.namespace !== plan.app.namespace || expected.name !== plan.app.name) {
    throw new TricenterError(
      'VALIDATION',
      `${source.key}: the object key names application ${expected.namespace}/${expected.name} but the bundle's Application is ${plan.app.namespace}/${plan.app.name}`,
    );
  }
  // The tenant is the key's namespace: whatever the bundle says, it is checked against what that tenant may use.
  admitRelease({ tenant: expected.namespace, registry, plan, traffic: bundle.trafficPolicies });
  await claimTrafficAtIngest(deps.store, plan.app, plan.traffic, deps.gtmDefaultInstanceId, deps.clock.now(), deps.logger);

  const record = await deps.store.getApp(plan.app);
  const current = record?.lastReleaseId ? await deps.store.getRelease(record.lastReleaseId) : undefined;
  if (current && current.publishVersion === plan.publishVersion) {
    deps.logger.info('same publishVersion as the current release: nothing to do', { app: plan.app, publishVersion: plan.publishVersion });
    return { outcome: 'unchanged', releaseId: current.id, ...(record?.currentRunId ? { runId: record.currentRunId } : {}) };
  }

  const id = `${plan.app.namespace}/${plan.app.name}/${plan.publishVersion}/${plan.contentHash.slice(0, 12)}`;
  const release = (await deps.store.getRelease(id)) ?? (await storeRelease(deps, id, plan, source));
  const uploadedBy = await uploaderOf(deps.store, source.bucket, source.key, object.data, ossPrincipal, deps.clock.now());
  const run = await startReleaseRun(deps, release, {
    by: 'bundle-ingest',
    reason: `upload of ${source.key} (publishVersion ${plan.publishVersion})`,
    ...(uploadedBy ? { uploadedBy } : {}),
  });
  return { outcome: 'run-started', runId: run.id, releaseId: release.id };
}

/** The manifests go to object storage first, the row that names them after: a crash in between leaves unreferenced objects, never a release with missing ones. */
async function storeRelease(deps: WorkflowDeps, id: string, plan: Plan, source: IngestKey): Promise<Release> {
  const packed = packRelease(plan);
  await deps.manifests.store(packed.packs);
  const release: Release = {
    id,
    app: plan.app,
    publishVersion: plan.publishVersion,
    contentHash: plan.contentHash,
    createdAt: deps.clock.now(),
    plan: packed.plan,
    source,
  };
  await deps.store.putRelease(release);
  deps.logger.info('release stored', {
    releaseId: id,
    packs: packed.packs.length,
    packBytes: packed.packs.reduce((sum, pack) => sum + pack.data.byteLength, 0),
    rowBytes: Buffer.byteLength(JSON.stringify(release)),
  });
  return release;
}

/** Input problems become a failed record; anything else (store down...) is thrown for a retry. */
function isBundleProblem(err: unknown): boolean {
  return (
    isTricenterError(err) && ['BUNDLE_INVALID', 'BUNDLE_TOO_LARGE', 'BUNDLE_UNSAFE', 'VALIDATION', 'RENDER', 'NOT_FOUND'].includes(err.code)
  );
}

/** Bundles live at `bundles/<namespace>/<name>.<ext>`: that is how a failed upload still finds its application. */
function appFromKey(key: string): AppRef | undefined {
  const verdict = parseBucketKey(key);
  return verdict.ok ? verdict.app : undefined;
}
