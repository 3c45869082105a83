import TableStore, { type Client } from 'tablestore';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import { SETUP_REQUEST_TIMEOUT_MS, TablestoreCalls, type TablestoreCallsOptions } from './tablestore-client.ts';
import { classifyOtsFailure } from './tablestore-errors.ts';
import { tableNames } from './tablestore-rows.ts';
import { approvalLinksTable } from './tablestore-approval-links.ts';
import { notificationOutboxTable } from './tablestore-notification-outbox.ts';
import { MAX_LINK_TTL_MS } from '../../model/approval-link.ts';

export { tablestoreClient } from './tablestore-client.ts';

/**
 * Creates the run store's tables (`tricenter setup`). Idempotent: a table that exists is left as
 * it is and reported as such (only its time to live is set again, below). Rows keep one version
 * (maxVersions 1) and never expire (timeToLive -1), which global secondary indexes require anyway,
 * except the task rows, one-time links and the notification outbox (their *_TTL_S below); reserved throughput 0 (pay as you go). Releases and runs get a global secondary index `<table>_by_app` on
 * [app_key, created_at] (+ id, appended by Tablestore) for the newest-first listings.
 */
export interface TableSetupResult {
  table: string;
  status: 'created' | 'exists';
}

interface TableSpec {
  name: string;
  primaryKey: string;
  indexName?: string;
  /** Seconds a row lives after its last write (Tablestore's timeToLive); absent: for ever. */
  timeToLive?: number;
}

/**
 * The time to live of the per-cluster task rows (`<prefix>task_reports`): 30 days after a row's
 * last write. A row matters only while its step runs and the run record has not taken its report
 * in: a deploy step always has a deadline (10 minutes unless the bundle gives one) and the run's end
 * takes every row in, so rows of ended runs are what this removes (Tablestore cannot delete rows on
 * the condition of another row, the run's). 30 days is far past any deadline a step is given, and
 * leaves a month to look at a rollout's rows. Were a row of a step still running to expire (a step
 * given more than 30 days whose task never wrote again), the run record still says its task was sent
 * without a report: the sweep presumes it lost and sends it again, which applies nothing that has
 * not changed and writes the row anew. Nothing is decided from a missing row.
 */
export const TASK_REPORTS_TTL_S = 30 * 24 * 60 * 60;

/**
 * One-time approval links (`<prefix>approval_links`): a day past the longest lifetime a link may
 * be given (30 days), so no link that may still be used is removed. A row gone by its time to live
 * is a link nobody can use any more: an unknown token is refused (404), as a used or expired one is.
 */
export const APPROVAL_LINKS_TTL_S = MAX_LINK_TTL_MS / 1000 + 24 * 60 * 60;

/**
 * The notification outbox (`<prefix>notification_outbox`): a row is sent, dropped or given up
 * within a day (the outbox's give-up bound) and then kept a week as the record that this message
 * was queued once, so a repeated effect is not queued again; its redelivery round reads the table
 * whole, which the time to live keeps to a week of failed messages.
 */
export const NOTIFICATION_OUTBOX_TTL_S = 7 * 24 * 60 * 60;

function tableSpecs(prefix: string): TableSpec[] {
  const t = tableNames(prefix);
  return [
    { name: t.releases, primaryKey: 'id', indexName: t.releasesByApp },
    { name: t.runs, primaryKey: 'id', indexName: t.runsByApp },
    { name: t.taskReports, primaryKey: 'task', timeToLive: TASK_REPORTS_TTL_S },
    { name: t.apps, primaryKey: 'app' },
    { name: t.ingests, primaryKey: 'ingest_key' },
    { name: t.trafficClaims, primaryKey: 'resource' },
    { name: t.rejectedUploads, primaryKey: 'upload' },
    { name: t.trafficHistory, primaryKey: 'app' },
    { name: approvalLinksTable(prefix), primaryKey: 'hash', timeToLive: APPROVAL_LINKS_TTL_S },
    { name: notificationOutboxTable(prefix), primaryKey: 'key', timeToLive: NOTIFICATION_OUTBOX_TTL_S },
  ];
}

/**
 * Throttling ("OTSQuotaExhausted: Too frequent table operations." when tables are created in a
 * row) and transient failures are retried for up to a minute per table; a CreateTable whose answer
 * was lost but which ran is answered OTSObjectAlreadyExist on retry, which counts as done.
 */
export async function createTables(
  client: Client,
  prefix: string,
  logger: Logger = silentLogger,
  backoff: Pick<TablestoreCallsOptions, 'clock' | 'sleep'> = {},
): Promise<TableSetupResult[]> {
  const retry = { budgetMs: 60_000, requestTimeoutMs: SETUP_REQUEST_TIMEOUT_MS, baseDelayMs: 500, maxDelayMs: 5_000 };
  const calls = new TablestoreCalls(() => client, { retry, logger, ...backoff });
  const results: TableSetupResult[] = [];
  for (const spec of tableSpecs(prefix)) {
    const tableMeta: Record<string, unknown> = {
      tableName: spec.name,
      primaryKey: [{ name: spec.primaryKey, type: 'STRING' }],
    };
    const request: Record<string, unknown> = {
      tableMeta,
      reservedThroughput: { capacityUnit: { read: 0, write: 0 } },
      tableOptions: { timeToLive: spec.timeToLive ?? -1, maxVersions: 1 },
    };
    if (spec.indexName) {
      tableMeta.definedColumn = [
        { name: 'app_key', type: TableStore.DefinedColumnType.DCT_STRING },
        { name: 'created_at', type: TableStore.DefinedColumnType.DCT_INTEGER },
      ];
      request.indexMetas = [
        {
          name: spec.indexName,
          primaryKey: ['app_key', 'created_at'],
          definedColumn: [],
          indexUpdateMode: TableStore.IndexUpdateMode.IUM_ASYNC_INDEX,
          indexType: TableStore.IndexType.IT_GLOBAL_INDEX,
        },
      ];
    }
    const status = await calls.retry(`CreateTable ${spec.name}`, async (sdk): Promise<TableSetupResult['status']> => {
      try {
        await sdk.createTable(request);
        return 'created';
      } catch (err) {
        if (classifyOtsFailure(err).code === 'OTSObjectAlreadyExist') return 'exists';
        throw err;
      }
    });
    // A table made before it had a time to live (by an earlier setup) gets it now.
    if (status === 'exists' && spec.timeToLive !== undefined) {
      const timeToLive = spec.timeToLive;
      await calls.retry(`UpdateTable ${spec.name}`, (sdk) =>
        sdk.updateTable({ tableName: spec.name, tableOptions: { timeToLive, maxVersions: 1 } }),
      );
    }
    results.push({ table: spec.name, status });
    if (status === 'created') logger.info('tablestore table created', { table: spec.name, index: spec.indexName ?? null });
  }
  return results;
}
