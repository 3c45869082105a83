import type { Plan } from '#shared/delivery/model/plan.ts';
import { type PackedRelease, packRelease } from '#shared/delivery/model/release-packs.ts';
import type { Run } from '#shared/delivery/workflow/run.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { startReleaseRun } from '#shared/delivery/usecases/releases.ts';

/**
 * What an ingest leaves behind for a rendered plan, for the use-case tests: its objects in the
 * release store, its release record (`rel-1`) in the run store, and its run started by `test`.
 */
export async function startRendered(deps: WorkflowDeps, rendered: Plan): Promise<{ run: Run; packed: PackedRelease }> {
  const packed = packRelease(rendered);
  await deps.manifests.store(packed.packs);
  const release = {
    id: 'rel-1',
    app: rendered.app,
    publishVersion: rendered.publishVersion,
    contentHash: rendered.contentHash,
    createdAt: 1,
    plan: packed.plan,
    source: { bucket: 'b', key: 'k', etag: 'E' },
  };
  await deps.store.putRelease(release);
  return { run: await startReleaseRun(deps, release, { by: 'test', reason: 'test' }), packed };
}
