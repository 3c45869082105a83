import TableStore from 'tablestore';
import { TricenterError } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import type { CredentialsProvider } from '../../../platform/credentials.ts';
import type { ApprovalLink, ConsumeOutcome } from '../../model/approval-link.ts';
import type { ApprovalLinkStore } from '../../ports/approval-link-store.port.ts';
import { targetCalls, tryPutVersioned, type TablestoreCalls, type TablestoreCallsOptions } from './tablestore-client.ts';
import { DEFAULT_TABLE_PREFIX, otsEndpoint } from './ots-endpoint.ts';
import { attributesOf, bodyColumns, bodyOf, integerColumn, tableNames } from './tablestore-rows.ts';

/**
 * The ApprovalLinkStore over Tablestore, in a table of its own (`createTables` makes it):
 *
 *   <prefix>approval_links  pk [hash]  version (INTEGER), body_chunks, body_0..n   (hash: hex SHA-256 of the token)
 *
 * `put` is a PutRow with EXPECT_NOT_EXIST (version 1). `consume` reads the row, and when it is
 * neither used nor expired writes it back with `consumedAt` under EXPECT_EXIST + `version == 1`:
 * of concurrent consumers one write passes the condition, the others get OTSConditionCheckFail
 * and read the row again (used). A write whose answer was lost is recognised by its write token
 * (TablestoreCalls.putRow), so a retried consume never turns its own win into `used`.
 */
export interface TablestoreApprovalLinkOptions extends TablestoreCallsOptions {
  region: string;
  instance: string;
  tablePrefix?: string;
  credentials: CredentialsProvider;
  endpoint?: string;
}

/** `<prefix>approval_links`; the prefix is checked as the run store's tables check it. */
export function approvalLinksTable(prefix: string): string {
  tableNames(prefix);
  return `${prefix}approval_links`;
}

type StoredLink = ApprovalLink & { version: number };

export function createTablestoreApprovalLinks(options: TablestoreApprovalLinkOptions): ApprovalLinkStore {
  return new TablestoreApprovalLinks(options);
}

class TablestoreApprovalLinks implements ApprovalLinkStore {
  private readonly table: string;
  private readonly logger: Logger;
  private readonly calls: TablestoreCalls;

  constructor(options: TablestoreApprovalLinkOptions) {
    this.table = approvalLinksTable(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.logger = (options.logger ?? silentLogger).child({ component: 'tablestore-approval-links' });
    const endpoint = options.endpoint ?? otsEndpoint({ region: options.region, instance: options.instance });
    this.calls = targetCalls({ endpoint, instance: options.instance, credentials: options.credentials }, options).calls;
  }

  async put(link: ApprovalLink): Promise<boolean> {
    const { consumedAt: _ignored, ...fresh } = link;
    return this.tryWrite({ ...fresh, version: 1 }, null);
  }

  async get(hash: string): Promise<ApprovalLink | undefined> {
    const stored = await this.read(hash);
    if (!stored) return undefined;
    const { version: _version, ...link } = stored;
    return link;
  }

  async consume(hash: string, now: number): Promise<ConsumeOutcome> {
    const stored = await this.read(hash);
    if (!stored) return { outcome: 'unknown' };
    const { version, ...link } = stored;
    if (link.consumedAt !== undefined) return { outcome: 'used', link };
    if (link.expiresAt <= now) return { outcome: 'expired', link };
    const consumed: ApprovalLink = { ...link, consumedAt: now };
    if (await this.tryWrite({ ...consumed, version: version + 1 }, version)) return { outcome: 'consumed', link: consumed };
    const after = await this.get(hash);
    if (!after) throw new TricenterError('INTERNAL', `approval link ${hash.slice(0, 12)}… vanished while being consumed`);
    return { outcome: 'used', link: after };
  }

  private async read(hash: string): Promise<StoredLink | undefined> {
    const describe = `approval link ${hash.slice(0, 12)}…`;
    const { row } = await this.calls.retry(`GetRow ${this.table} (${describe})`, (sdk) =>
      sdk.getRow({ tableName: this.table, primaryKey: [{ hash }], maxVersions: 1 }),
    );
    const attributes = attributesOf(row);
    if (!attributes) return undefined;
    return { ...bodyOf<ApprovalLink>(attributes, describe), version: integerColumn(attributes, 'version', describe) };
  }

  /** A conditional write whose condition failure is an answer (the link exists, or another consume won), not an error. */
  private async tryWrite(stored: StoredLink, expectedVersion: number | null): Promise<boolean> {
    const { version, ...link } = stored;
    const describe = `approval link ${link.hash.slice(0, 12)}…`;
    const columns = [{ version: TableStore.Long.fromNumber(version) }, ...bodyColumns(link, describe, 'VALIDATION')];
    return tryPutVersioned(this.calls, this.logger, {
      table: this.table,
      describe,
      primaryKey: [{ hash: link.hash }],
      attributeColumns: columns,
      expectedVersion,
      conflict: `${describe} exists or was consumed meanwhile`,
    });
  }
}
