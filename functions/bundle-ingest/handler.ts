import { fcHandler } from '#shared/platform/handler.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { ossEventSchema } from '#shared/platform/triggers/oss.ts';
import type { IngestResult } from '#shared/delivery/model/records.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { ingestBundle } from '#shared/delivery/usecases/ingest-bundle.ts';

/**
 * OSS trigger: each created object under `bundles/` becomes a release and a run (or a failed
 * record). Idempotent on bucket + key + eTag, so OSS re-deliveries are harmless. A thrown error
 * (store unreachable...) fails the invocation so that FC retries it.
 */
export function createBundleIngestHandler(getDeps: (context: FcContext) => Promise<WorkflowDeps>) {
  return fcHandler({
    fn: 'bundle-ingest',
    trigger: ossEventSchema,
    deps: getDeps,
    async handle({ events }, { deps, log }) {
      const results: IngestResult[] = [];
      for (const record of events) {
        if (!record.eventName.startsWith('ObjectCreated:')) {
          log.info('event ignored', { eventName: record.eventName, key: record.oss.object.key });
          continue;
        }
        const { bucket, object } = record.oss;
        const principal = record.userIdentity?.principalId;
        const result = await ingestBundle(
          { ...deps, logger: log },
          { bucket: bucket.name, key: object.key, etag: object.eTag },
          principal ? { ossPrincipal: principal } : {},
        );
        log.info('bundle ingested', { key: object.key, ...result });
        results.push(result);
      }
      return results;
    },
  });
}
