import type { Command } from 'commander';
import { credentialsFromEnv } from '#shared/adapters/aliyun/credentials.ts';
import { OTS_NETWORKS, otsEndpoint, type OtsNetwork } from '#shared/adapters/aliyun/ots-endpoint.ts';
import { DEFAULT_TABLE_PREFIX } from '#shared/adapters/aliyun/tablestore-run-store.ts';
import { createTables, tablestoreClient, type TableSetupResult } from '#shared/adapters/aliyun/tablestore-tables.ts';
import { TricenterError } from '#shared/core/errors.ts';

/**
 * `tricenter setup`: creates the run store's Tablestore tables (idempotent: existing tables are
 * left alone). Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN;
 * the instance, endpoint and prefix default to the variables s.yaml hands the functions, so one
 * environment configures both.
 */
export interface SetupOptions {
  endpoint?: string;
  instance?: string;
  region?: string;
  prefix?: string;
  /** Which endpoint form to derive; an operator outside the VPC needs `public` (the default). */
  network?: OtsNetwork;
}

export interface SetupTarget {
  endpoint: string;
  instance: string;
  prefix: string;
}

/** Where setup creates the tables: the same derivation as the functions' (functions/cloud.ts). */
export function setupTarget(options: SetupOptions, env: NodeJS.ProcessEnv = process.env): SetupTarget {
  const instance = options.instance ?? env.TRICENTER_OTS_INSTANCE;
  if (!instance) throw new TricenterError('VALIDATION', 'no Tablestore instance: pass --instance or set TRICENTER_OTS_INSTANCE');
  const network = options.network ?? 'public';
  if (!OTS_NETWORKS.includes(network)) throw new TricenterError('VALIDATION', `--network "${network}" is not one of ${OTS_NETWORKS.join(', ')}`);
  const endpoint = otsEndpoint({ region: options.region ?? env.TRICENTER_REGION ?? 'cn-hangzhou', instance, network, override: options.endpoint ?? env.TRICENTER_OTS_ENDPOINT });
  return { endpoint, instance, prefix: options.prefix ?? env.TRICENTER_OTS_TABLE_PREFIX ?? DEFAULT_TABLE_PREFIX };
}

export async function runSetup(options: SetupOptions, env: NodeJS.ProcessEnv = process.env): Promise<SetupTarget & { tables: TableSetupResult[] }> {
  const target = setupTarget(options, env);
  const client = tablestoreClient({ endpoint: target.endpoint, instance: target.instance, credentials: credentialsFromEnv(env) });
  return { ...target, tables: await createTables(client, target.prefix) };
}

export function register(program: Command): void {
  program
    .command('setup')
    .description('create the Tablestore tables of the run store (credentials from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/_SECURITY_TOKEN)')
    .option('--endpoint <url>', 'Tablestore endpoint (default: $TRICENTER_OTS_ENDPOINT or https://<instance>.<region>.ots.aliyuncs.com)')
    .option('--instance <name>', 'Tablestore instance (default: $TRICENTER_OTS_INSTANCE)')
    .option('--region <id>', 'region of the instance (default: $TRICENTER_REGION or cn-hangzhou)')
    .option('--prefix <prefix>', `table name prefix (default: $TRICENTER_OTS_TABLE_PREFIX or ${DEFAULT_TABLE_PREFIX})`)
    .option('--network <public|vpc>', 'endpoint form derived from region and instance (default: public)')
    .action(async (opts: SetupOptions) => {
      const result = await runSetup(opts);
      process.stdout.write(`Tablestore ${result.instance} at ${result.endpoint}\n`);
      for (const { table, status } of result.tables) process.stdout.write(`  ${table.padEnd(32)} ${status}\n`);
    });
}
