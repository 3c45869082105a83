import TableStore, { type DecodedRow, type PrimaryKeyInput } from 'tablestore';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import type { CredentialsProvider } from '../../../platform/credentials.ts';
import { claimedOutboxEntry, freshOutboxEntry, rescheduledOutboxEntry, settledOutboxEntry } from '../../model/outbox-entry.ts';
import type { NewOutboxEntry, NotificationOutbox, OutboxEntry, OutboxState } from '../../ports/notification-outbox.port.ts';
import { targetCalls, tryPutVersioned, type TablestoreCalls, type TablestoreCallsOptions } from './tablestore-client.ts';
import { DEFAULT_TABLE_PREFIX, otsEndpoint } from './ots-endpoint.ts';
import { attributesOf, bodyColumns, bodyOf, integerColumn, tableNames, type RowAttributes } from './tablestore-rows.ts';

/**
 * The NotificationOutbox over Tablestore, in a table of its own (`createTables` makes it):
 *
 *   <prefix>notification_outbox  pk [key]  version (INTEGER), body_chunks, body_0..n
 *
 * `add` is a PutRow with EXPECT_NOT_EXIST (version 1); every later change a PutRow under
 * EXPECT_EXIST + `version == <the version read>`: of two timer instances claiming one entry, one
 * write passes the condition and the other gets OTSConditionCheckFail (not claimed). A write whose
 * answer was lost is recognised by its write token (TablestoreCalls.putRow), so a retried claim
 * never turns its own win into a loss. `listDue` reads the table with GetRange and keeps the
 * pending rows that are due: only messages that failed land here, so the table stays small.
 */
export interface TablestoreNotificationOutboxOptions extends TablestoreCallsOptions {
  region: string;
  instance: string;
  tablePrefix?: string;
  credentials: CredentialsProvider;
  endpoint?: string;
}

/** `<prefix>notification_outbox`; the prefix is checked as the run store's tables check it. */
export function notificationOutboxTable(prefix: string): string {
  tableNames(prefix);
  return `${prefix}notification_outbox`;
}

export function createTablestoreNotificationOutbox(options: TablestoreNotificationOutboxOptions): NotificationOutbox {
  return new TablestoreNotificationOutbox(options);
}

class TablestoreNotificationOutbox implements NotificationOutbox {
  private readonly table: string;
  private readonly logger: Logger;
  private readonly calls: TablestoreCalls;

  constructor(options: TablestoreNotificationOutboxOptions) {
    this.table = notificationOutboxTable(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.logger = (options.logger ?? silentLogger).child({ component: 'tablestore-notification-outbox' });
    const endpoint = options.endpoint ?? otsEndpoint({ region: options.region, instance: options.instance });
    this.calls = targetCalls({ endpoint, instance: options.instance, credentials: options.credentials }, options).calls;
  }

  async add(fresh: NewOutboxEntry): Promise<boolean> {
    return this.tryWrite(freshOutboxEntry(fresh), null);
  }

  async listDue(now: number, limit: number): Promise<OutboxEntry[]> {
    const due: OutboxEntry[] = [];
    let from: PrimaryKeyInput | undefined = [{ key: TableStore.INF_MIN }];
    while (from) {
      const request: Record<string, unknown> = {
        tableName: this.table,
        direction: TableStore.Direction.FORWARD,
        inclusiveStartPrimaryKey: from,
        exclusiveEndPrimaryKey: [{ key: TableStore.INF_MAX }],
        limit: 1000,
        maxVersions: 1,
      };
      const answer = await this.calls.retry(`GetRange ${this.table}`, (sdk) => sdk.getRange(request));
      for (const row of answer.rows) {
        const entry = this.decode(row);
        if (entry && entry.state === 'pending' && entry.dueAt <= now) due.push(entry);
      }
      const next: DecodedRow['primaryKey'] | null = answer.nextStartPrimaryKey;
      from = next ? next.map(({ name, value }) => ({ [name]: value })) : undefined;
    }
    return due.sort((a, b) => a.dueAt - b.dueAt || a.key.localeCompare(b.key)).slice(0, limit);
  }

  async claim(entry: OutboxEntry, leaseUntil: number): Promise<OutboxEntry | undefined> {
    const claimed = claimedOutboxEntry(entry, leaseUntil);
    return claimed && (await this.tryWrite(claimed, entry.version)) ? claimed : undefined;
  }

  async settle(claimed: OutboxEntry, state: Exclude<OutboxState, 'pending'>, now: number, lastError?: string): Promise<boolean> {
    return this.tryWrite(settledOutboxEntry(claimed, state, now, lastError), claimed.version);
  }

  async reschedule(claimed: OutboxEntry, dueAt: number, lastError: string): Promise<boolean> {
    return this.tryWrite(rescheduledOutboxEntry(claimed, dueAt, lastError), claimed.version);
  }

  async get(key: string): Promise<OutboxEntry | undefined> {
    const { row } = await this.calls.retry(`GetRow ${this.table} (${describe(key)})`, (sdk) =>
      sdk.getRow({ tableName: this.table, primaryKey: [{ key }], maxVersions: 1 }),
    );
    return this.decode(row);
  }

  /** The entry of a row, its version from the column (the one conditions compare). */
  private decode(row: Partial<DecodedRow>): OutboxEntry | undefined {
    const attributes: RowAttributes | undefined = attributesOf(row);
    if (!attributes) return undefined;
    const where = 'notification outbox entry';
    return { ...bodyOf<OutboxEntry>(attributes, where), version: integerColumn(attributes, 'version', where) };
  }

  /** A conditional write whose condition failure is an answer (the key exists, or another claimant won), not an error. */
  private async tryWrite(entry: OutboxEntry, expectedVersion: number | null): Promise<boolean> {
    const what = describe(entry.key);
    const columns = [{ version: TableStore.Long.fromNumber(entry.version) }, ...bodyColumns(entry, what, 'VALIDATION')];
    return tryPutVersioned(this.calls, this.logger, {
      table: this.table,
      describe: what,
      primaryKey: [{ key: entry.key }],
      attributeColumns: columns,
      expectedVersion,
      conflict: `${what} exists or changed meanwhile`,
    });
  }
}

function describe(key: string): string {
  return `notification outbox entry ${key}`;
}
