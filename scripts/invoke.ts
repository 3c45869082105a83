/**
 * `npm run invoke -- <function> <event.json> [--bundle <path>]`: runs one function's handler
 * locally against a fresh local twin (what `s local invoke` does, without Docker): the same
 * handler the cloud runs, composed with the local adapters. For an OSS event, the bundle
 * (default examples/web-demo) is first put at the event's key, so the sample event has an object
 * to read. Prints the handler's result as JSON, lets the tasks it queued run, then stops.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { packBundle } from '../cli/client.ts';
import { createLogger } from '#shared/platform/log.ts';
import { ossEventSchema } from '#shared/platform/triggers/oss.ts';
import { LOCAL_BUCKET, startLocalTwin, type LocalTwin } from '#local/twin.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { bundle: { type: 'string', default: 'examples/web-demo' } },
});
const [name, eventFile] = positionals;
const FUNCTIONS = ['bundle-ingest', 'deploy-step', 'approval', 'gtm-reconcile'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
if (!name || !eventFile || !(FUNCTIONS as readonly string[]).includes(name)) {
  console.error(`usage: npm run invoke -- <${FUNCTIONS.join('|')}> <event.json> [--bundle <path>]`);
  process.exit(2);
}

const event = readFileSync(eventFile);
const dir = mkdtempSync(join(tmpdir(), 'tricenter-invoke-'));
const logger = createLogger({ fn: 'invoke' }, { sink: (line) => process.stderr.write(`${line}\n`) });
let twin: LocalTwin | undefined;
try {
  twin = await startLocalTwin({
    dir,
    clustersFile: 'examples/web-demo/clusters.yaml',
    readyDelayMs: 0,
    dataPlanePort: 0,
    timerIntervalMs: 60_000,
    logger,
  });
  // The sample HTTP events in events/ carry this token.
  twin.deps.auth.tokens.push({ name: 'local-dev', token: 'local-dev-token', scope: 'approver' });
  const oss = ossEventSchema.safeParse(JSON.parse(event.toString('utf8')));
  if (oss.success) {
    const packed = await packBundle(values.bundle ?? 'examples/web-demo');
    for (const record of oss.data.events) {
      const info = await twin.deps.bundles.put(LOCAL_BUCKET, record.oss.object.key, packed.data);
      // The local bucket's ETag is the MD5 of what was put: the event must name it, as OSS's would.
      record.oss.bucket.name = LOCAL_BUCKET;
      record.oss.object.eTag = info.etag;
      record.oss.object.size = info.size;
    }
  }
  const payload = oss.success ? Buffer.from(JSON.stringify(oss.data)) : event;
  const context = { requestId: randomUUID(), function: { name }, accountId: 'local', region: 'local' };
  const result = await twin.handlers[name as FunctionName](payload, context);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await twin.queue.drain();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  await twin?.stop();
  rmSync(dir, { recursive: true, force: true });
}
