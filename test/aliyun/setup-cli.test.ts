import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import TableStore from 'tablestore';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { DEPLOYER_CLUSTER_ROLE, DEPLOYER_CLUSTER_ROLE_FILE } from '#cli/commands/ack-access.ts';
import { register, runSetup } from '#cli/commands/setup.ts';
import { OWNED_KINDS } from '#shared/delivery/adapters/kube/manifests.ts';
import { emptyInstanceEachTest, listeningServer } from './tablestore-fixture.ts';
import type { FakeTablestore } from './tablestore-msw.ts';

const ENDPOINT = 'https://tricenter-setup.cn-shanghai.ots.aliyuncs.com';
const ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-setup',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'setup-secret',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'setup-token',
};

let fake: FakeTablestore;
emptyInstanceEachTest(
  listeningServer(),
  {
    endpoint: ENDPOINT,
    instance: 'tricenter-setup',
    accessKeyId: ENV.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: ENV.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    securityToken: ENV.ALIBABA_CLOUD_SECURITY_TOKEN,
  },
  (fresh) => {
    fake = fresh;
  },
);
afterEach(() => vi.restoreAllMocks());

describe('tricenter setup', () => {
  it('creates the ten tables with string keys, one version, no TTL, and the by-app indexes', async () => {
    const result = await runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup', prefix: 'prod_' }, ENV);
    expect(result.tables).toEqual([
      { table: 'prod_releases', status: 'created' },
      { table: 'prod_runs', status: 'created' },
      { table: 'prod_task_reports', status: 'created' },
      { table: 'prod_apps', status: 'created' },
      { table: 'prod_ingests', status: 'created' },
      { table: 'prod_traffic_claims', status: 'created' },
      { table: 'prod_rejected_uploads', status: 'created' },
      { table: 'prod_traffic_history', status: 'created' },
      { table: 'prod_approval_links', status: 'created' },
      { table: 'prod_notification_outbox', status: 'created' },
    ]);
    expect(fake.calls.filter((c) => c.action === 'CreateTable').map((c) => [c.table, c.stsToken])).toEqual([
      ['prod_releases', 'setup-token'],
      ['prod_runs', 'setup-token'],
      ['prod_task_reports', 'setup-token'],
      ['prod_apps', 'setup-token'],
      ['prod_ingests', 'setup-token'],
      ['prod_traffic_claims', 'setup-token'],
      ['prod_rejected_uploads', 'setup-token'],
      ['prod_traffic_history', 'setup-token'],
      ['prod_approval_links', 'setup-token'],
      ['prod_notification_outbox', 'setup-token'],
    ]);
    const runs = fake.tables.get('prod_runs')!;
    expect(runs.primaryKey).toEqual([{ name: 'id', type: TableStore.PrimaryKeyType.STRING }]);
    expect([...runs.definedColumns]).toEqual([
      ['app_key', TableStore.DefinedColumnType.DCT_STRING],
      ['created_at', TableStore.DefinedColumnType.DCT_INTEGER],
    ]);
    expect(runs.indexes).toEqual([{ name: 'prod_runs_by_app', primaryKey: ['app_key', 'created_at', 'id'] }]);
    expect(fake.tables.get('prod_task_reports')!.primaryKey).toEqual([{ name: 'task', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_task_reports')!.indexes).toEqual([]);
    expect(fake.tables.get('prod_apps')!.primaryKey).toEqual([{ name: 'app', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_ingests')!.indexes).toEqual([]);
    expect(fake.tables.get('prod_traffic_claims')!.primaryKey).toEqual([{ name: 'resource', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_rejected_uploads')!.primaryKey).toEqual([{ name: 'upload', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_traffic_history')!.primaryKey).toEqual([{ name: 'app', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_approval_links')!.primaryKey).toEqual([{ name: 'hash', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_notification_outbox')!.primaryKey).toEqual([{ name: 'key', type: TableStore.PrimaryKeyType.STRING }]);
  });

  it('is idempotent: a second run reports the tables as existing', async () => {
    await runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup' }, ENV);
    const again = await runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup' }, ENV);
    expect(again.tables.map((t) => t.status)).toEqual(Array.from({ length: 10 }, () => 'exists'));
    expect(fake.calls.filter((c) => c.errorCode === 'OTSObjectAlreadyExist')).toHaveLength(10);
  });

  it('takes instance, endpoint and prefix from the environment s.yaml uses', async () => {
    const result = await runSetup(
      {},
      { ...ENV, TRICENTER_OTS_INSTANCE: 'tricenter-setup', TRICENTER_OTS_ENDPOINT: ENDPOINT, TRICENTER_OTS_TABLE_PREFIX: 'env_' },
    );
    expect(result.tables[0]).toEqual({ table: 'env_releases', status: 'created' });
  });

  it('refuses to run without credentials or instance, saying what to set', async () => {
    await expect(runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup' }, {})).rejects.toThrow(
      /set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/,
    );
    await expect(runSetup({ endpoint: ENDPOINT }, ENV)).rejects.toThrow(/pass --instance or set TRICENTER_OTS_INSTANCE/);
    await expect(runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup', prefix: '1bad-' }, ENV)).rejects.toThrow(
      /table prefix "1bad-" is not valid/,
    );
    expect(fake.calls).toEqual([]);
  });

  it('runs as a CLI command and prints one line per table', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, ENV);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const program = new Command('tricenter').exitOverride();
      register(program);
      await program.parseAsync(['setup', '--endpoint', ENDPOINT, '--instance', 'tricenter-setup', '--prefix', 'cli_'], { from: 'user' });
    } finally {
      process.env = saved;
    }
    const text = out.join('');
    expect(text).toContain(`Tablestore tricenter-setup at ${ENDPOINT}`);
    expect(text).toMatch(/cli_runs\s+created/);
    expect(text.match(/created/g)).toHaveLength(10);
  });

  describe('ACK access steps (--clusters)', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'tricenter-setup-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const registryFile = (text: string): string => {
      const file = join(dir, 'clusters.yaml');
      writeFileSync(file, text);
      return file;
    };
    const REGISTRY = [
      'clusters:',
      '  - name: cluster1-hangzhou',
      '    connection: { ackClusterId: c-hz-0001, region: cn-hangzhou, privateIpAddress: true }',
      '  - name: cluster1-beijing',
      '    connection: { ackClusterId: c-bj-0001, region: cn-beijing }',
      '  - name: on-prem',
      '    connection: { kubeconfig: { path: ~/.kube/on-prem, context: on-prem } }',
      '',
    ].join('\n');

    const runCli = async (args: string[]): Promise<string> => {
      const out: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
        out.push(String(chunk));
        return true;
      });
      const saved = { ...process.env };
      Object.assign(process.env, ENV);
      try {
        const program = new Command('tricenter').exitOverride();
        register(program);
        await program.parseAsync(['setup', ...args], { from: 'user' });
      } finally {
        process.env = saved;
        vi.restoreAllMocks();
      }
      return out.join('');
    };

    it('prints one complete GrantPermissions body for every ACK cluster of the registry, and the ClusterRole to create first', async () => {
      const file = registryFile(REGISTRY);
      const text = await runCli(['--clusters', file, '--no-tables']);
      expect(fake.calls).toEqual([]);
      expect(text).toContain(`Kubernetes RBAC for the RAM role tricenter-fc on the 2 ACK cluster(s) of ${file}`);
      expect(text).toContain(`kubectl --context <admin context of cluster1-hangzhou> apply -f ${DEPLOYER_CLUSTER_ROLE_FILE}`);
      expect(text).toContain("ROLE_ID=$(aliyun ram GetRole --RoleName 'tricenter-fc' | jq -r .Role.RoleId)");
      const body = /--body '(\[.*\])'/.exec(text)?.[1];
      expect(JSON.parse(body ?? 'null')).toEqual([
        { cluster: 'c-bj-0001', role_type: 'cluster', role_name: DEPLOYER_CLUSTER_ROLE, is_custom: true, is_ram_role: true },
        { cluster: 'c-hz-0001', role_type: 'cluster', role_name: DEPLOYER_CLUSTER_ROLE, is_custom: true, is_ram_role: true },
      ]);
      expect(text).not.toContain('on-prem');
    });

    it('creates the tables, then prints the steps for the role named in the environment', async () => {
      const text = await runCli([
        '--endpoint',
        ENDPOINT,
        '--instance',
        'tricenter-setup',
        '--clusters',
        registryFile(REGISTRY),
        '--role-name',
        'ops.tricenter-fc',
      ]);
      expect(fake.calls.filter((c) => c.action === 'CreateTable').length).toBe(text.match(/ created\n/g)?.length);
      expect(text.indexOf('Tablestore tricenter-setup')).toBeLessThan(text.indexOf('Kubernetes RBAC for the RAM role ops.tricenter-fc'));
    });

    it('says so when the registry has no ACK cluster', async () => {
      const text = await runCli(['--clusters', registryFile('clusters:\n  - name: local\n'), '--no-tables']);
      expect(text).toMatch(/^No ACK cluster in .*clusters\.yaml/);
    });

    it('refuses a bad registry before creating anything, naming the file and field', async () => {
      const file = registryFile('clusters:\n  - name: Bad_Name\n    connection: { ackClusterId: c-1, region: cn-hangzhou }\n');
      await expect(runCli(['--endpoint', ENDPOINT, '--instance', 'tricenter-setup', '--clusters', file])).rejects.toThrow(
        /clusters\.yaml.*clusters\[0\]\.name|clusters\.0\.name/s,
      );
      expect(fake.calls).toEqual([]);
    });

    it('refuses a role name that is no RAM role name (it would land in a shell command)', async () => {
      await expect(runCli(['--clusters', registryFile(REGISTRY), '--no-tables', '--role-name', "x'; rm -rf ~ #"])).rejects.toThrow(
        /is not a RAM role name/,
      );
    });

    it('keeps the ClusterRole in step with the kinds the gateway applies and prunes', () => {
      const role = parse(readFileSync(DEPLOYER_CLUSTER_ROLE_FILE, 'utf8')) as {
        metadata: { name: string };
        rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
      };
      expect(role.metadata.name).toBe(DEPLOYER_CLUSTER_ROLE);
      const allowed = (group: string, resource: string) =>
        new Set(role.rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs));
      const plural = (kind: string) => (kind.endsWith('s') ? `${kind.toLowerCase()}es` : `${kind.toLowerCase()}s`);
      for (const { apiVersion, kind } of OWNED_KINDS) {
        const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
        const verbs = allowed(group, plural(kind));
        for (const verb of ['get', 'list', 'create', 'patch', 'delete'])
          expect(verbs.has(verb), `${verb} ${plural(kind)}.${group}`).toBe(true);
      }
      for (const verb of ['get', 'create', 'patch']) expect(allowed('', 'namespaces').has(verb)).toBe(true);
      expect(allowed('', 'namespaces').has('delete')).toBe(false);
    });

    it('documents the role trust policy: only Function Compute may assume it', () => {
      const trust = JSON.parse(readFileSync('docs/ram/tricenter-fc-trust-policy.json', 'utf8')) as {
        Statement: Array<{ Effect: string; Action: string; Principal: { Service: string[] } }>;
      };
      expect(trust.Statement).toEqual([{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }]);
    });
  });
});
