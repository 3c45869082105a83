import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/log.ts';
import { tenantFolder } from '../model/bucket-key.ts';
import type { IngestResult, ObjectSource, RejectedUpload } from '../model/records.ts';
import type { RunStore } from '../ports/run-store.port.ts';

/**
 * The bucket-key gate of ingest: an object whose key breaks the rule (shared/delivery/model/bucket-key.ts)
 * is recorded as a rejected upload and never loaded. Returns the ingest's outcome for such a key.
 */
export async function refuseBadKey(
  deps: { store: Pick<RunStore, 'recordRejectedUpload'>; logger: Logger; clock: Clock },
  source: ObjectSource,
  reason: string,
): Promise<IngestResult> {
  const recorded = await deps.store.recordRejectedUpload({ source, reason, at: deps.clock.now() });
  deps.logger.warn('upload rejected for its key', { bucket: source.bucket, key: source.key, etag: source.etag, reason: recorded.reason });
  return { outcome: 'failed', error: recorded.reason };
}

/** The newest rejected uploads of a tenant's folder (`bundles/<namespace>/`), for `status` and `runs`. */
export async function recentRejectedUploads(
  store: Pick<RunStore, 'listRejectedUploads'>,
  namespace: string,
  limit = 20,
): Promise<RejectedUpload[]> {
  const page = await store.listRejectedUploads(tenantFolder(namespace), { limit: 100 });
  return page.items.sort((a, b) => b.at - a.at).slice(0, limit);
}
