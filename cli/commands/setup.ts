import type { Command } from 'commander';
import { credentialsFromEnv } from '#shared/adapters/aliyun/credentials.ts';
import { DEFAULT_TABLE_PREFIX, tablestoreEndpoint } from '#shared/adapters/aliyun/tablestore-run-store.ts';
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
}

export async function runSetup(options: SetupOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ endpoint: string; instance: string; prefix: string; tables: TableSetupResult[] }> {
  const instance = options.instance ?? env.TRICENTER_OTS_INSTANCE;
  if (!instance) throw new TricenterError('VALIDATION', 'no Tablestore instance: pass --instance or set TRICENTER_OTS_INSTANCE');
  const region = options.region ?? env.TRICENTER_REGION ?? 'cn-hangzhou';
  const endpoint = options.endpoint ?? env.TRICENTER_OTS_ENDPOINT ?? tablestoreEndpoint(region, instance);
  const prefix = options.prefix ?? env.TRICENTER_OTS_TABLE_PREFIX ?? DEFAULT_TABLE_PREFIX;
  const client = tablestoreClient({ endpoint, instance, credentials: credentialsFromEnv(env) });
  return { endpoint, instance, prefix, tables: await createTables(client, prefix) };
}

export function register(program: Command): void {
  program
    .command('setup')
    .description('create the Tablestore tables of the run store (credentials from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/_SECURITY_TOKEN)')
    .option('--endpoint <url>', 'Tablestore endpoint (default: $TRICENTER_OTS_ENDPOINT or https://<instance>.<region>.ots.aliyuncs.com)')
    .option('--instance <name>', 'Tablestore instance (default: $TRICENTER_OTS_INSTANCE)')
    .option('--region <id>', 'region of the instance (default: $TRICENTER_REGION or cn-hangzhou)')
    .option('--prefix <prefix>', `table name prefix (default: $TRICENTER_OTS_TABLE_PREFIX or ${DEFAULT_TABLE_PREFIX})`)
    .action(async (opts: SetupOptions) => {
      const result = await runSetup(opts);
      process.stdout.write(`Tablestore ${result.instance} at ${result.endpoint}\n`);
      for (const { table, status } of result.tables) process.stdout.write(`  ${table.padEnd(32)} ${status}\n`);
    });
}
