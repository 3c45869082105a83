import type { Command } from 'commander';
import { credentialsFromEnv } from '#shared/platform/credentials.ts';
import { DEFAULT_TABLE_PREFIX, OTS_NETWORKS, otsEndpoint, type OtsNetwork } from '#shared/delivery/adapters/aliyun/ots-endpoint.ts';
import type { TableSetupResult } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { ackAccessSteps } from './ack-access.ts';

/**
 * `tricenter setup`: creates the run store's Tablestore tables (idempotent: existing tables are
 * left alone). Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN;
 * the instance, endpoint and prefix default to the variables s.yaml hands the functions, so one
 * environment configures both. With `--clusters`, it then prints the steps that give the
 * functions' role Kubernetes RBAC on the registry's ACK clusters. The Tablestore SDK and the
 * registry's loader are imported when setup runs, not for `tricenter --help`.
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
  if (!OTS_NETWORKS.includes(network))
    throw new TricenterError('VALIDATION', `--network "${network}" is not one of ${OTS_NETWORKS.join(', ')}`);
  const endpoint = otsEndpoint({
    region: options.region ?? env.TRICENTER_REGION ?? 'cn-hangzhou',
    instance,
    network,
    override: options.endpoint ?? env.TRICENTER_OTS_ENDPOINT,
  });
  return { endpoint, instance, prefix: options.prefix ?? env.TRICENTER_OTS_TABLE_PREFIX ?? DEFAULT_TABLE_PREFIX };
}

export async function runSetup(
  options: SetupOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SetupTarget & { tables: TableSetupResult[] }> {
  const target = setupTarget(options, env);
  const { createTables, tablestoreClient } = await import('#shared/delivery/adapters/aliyun/tablestore-tables.ts');
  const client = tablestoreClient({ endpoint: target.endpoint, instance: target.instance, credentials: credentialsFromEnv(env) });
  return { ...target, tables: await createTables(client, target.prefix) };
}

/** The ACK access steps for a cluster registry file (read and validated like the functions read it). */
export async function accessSteps(registryFile: string, roleName: string): Promise<string> {
  const [{ loadBundle }, { parseClusterRegistry }] = await Promise.all([
    import('#shared/delivery/bundle/load.ts'),
    import('#shared/delivery/model/clusters.ts'),
  ]);
  return ackAccessSteps(parseClusterRegistry(await loadBundle(registryFile)), roleName, registryFile);
}

interface SetupCommandOptions extends SetupOptions {
  clusters?: string;
  roleName?: string;
  tables: boolean;
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
    .option('--clusters <file>', 'cluster registry: print the steps that give the role Kubernetes RBAC on its ACK clusters')
    .option('--role-name <name>', 'RAM role of the functions (default: $TRICENTER_ROLE_NAME or tricenter-fc)')
    .option('--no-tables', 'skip the Tablestore tables (only print the ACK steps)')
    .action(async ({ clusters, roleName, tables, ...opts }: SetupCommandOptions) => {
      // Read the registry first: a bad file is reported before anything is created.
      const steps = clusters ? await accessSteps(clusters, roleName ?? process.env.TRICENTER_ROLE_NAME ?? 'tricenter-fc') : undefined;
      if (tables) {
        const result = await runSetup(opts);
        process.stdout.write(`Tablestore ${result.instance} at ${result.endpoint}\n`);
        for (const { table, status } of result.tables) process.stdout.write(`  ${table.padEnd(32)} ${status}\n`);
      }
      if (steps) process.stdout.write(`${tables ? '\n' : ''}${steps}`);
    });
}
