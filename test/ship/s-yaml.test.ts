import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTarget } from '#cli/commands/setup.ts';
import { cloudConfig } from '#functions/cloud.ts';
import type { ApprovalDeps } from '#functions/approval/deps.ts';
import { createApprovalHandler } from '#functions/approval/handler.ts';
import { silentLogger } from '#shared/platform/log.ts';
import type { HttpTriggerEvent } from '#shared/platform/triggers/http.ts';
import { FUNCTIONS } from '../../scripts/build.ts';

/**
 * s.yaml through the real Serverless Devs CLI (the pinned devDependency), offline: a temporary HOME
 * with a dummy access added by `s config add`, every CLI process preloaded with offline-guard.cjs
 * (any name lookup or non-local connection fails and is logged). `s preview -o json`, without `-a`,
 * renders; each function's props are then checked against the published fc3 schema and our rules.
 * `s deploy` needs the fc3 component, which the CLI downloads from the Serverless Devs registry (not
 * npm): a stub in the HOME's component cache shows what the CLI would hand the real one.
 */
const exec = promisify(execFile);
const S_BIN = resolve(dirname(createRequire(import.meta.url).resolve('@serverless-devs/s/package.json')), 'bin/s');
const GUARD = resolve('test/ship/offline-guard.cjs');
const ACCOUNT_ID = '1234567890123456';
const CLI_TIMEOUT_MS = 60_000;

interface Props extends Record<string, unknown> {
  runtime: string;
  environmentVariables: Record<string, string>;
  triggers?: Array<{ triggerName: string; triggerType: string; triggerConfig: Record<string, unknown> }>;
}
interface Rendered {
  access: string;
  actions: Record<string, Array<{ run: string }>>;
  resources: Record<string, { component: string; props: Props }>;
}

let home: string;
let guardLog: string;

async function s(args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await exec(process.execPath, [S_BIN, ...args, '--silent'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', HOME: home, NODE_OPTIONS: `--require ${GUARD}`, OFFLINE_GUARD_LOG: guardLog, ...env },
    timeout: CLI_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
/** A run that may fail, with what it printed either way (a CLI error goes to stdout and stderr). */
async function outcome(args: string[], env: Record<string, string> = {}): Promise<{ ok: boolean; output: string }> {
  return s(args, env).then(
    (output) => ({ ok: true, output }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
}
const networkAttempts = (): string[] => (existsSync(guardLog) ? readFileSync(guardLog, 'utf8').trim().split('\n').filter(Boolean) : []);
const MOVED = { TRICENTER_REGION: 'cn-shanghai', TRICENTER_OTS_INSTANCE: 'prod-runs', TRICENTER_BUCKET: 'prod-bundles' };
// Notification settings are JSON and URLs: braces, quotes, colons and '?' must reach the functions unchanged.
const NOTIFY = {
  TRICENTER_NOTIFIERS: JSON.stringify([
    {
      type: 'dingtalk',
      name: 'ops',
      url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
      secret: 'SEC0123456789abcdef',
      recipients: ['group:ops'],
    },
  ]),
  TRICENTER_APPROVAL_URL: 'https://approval.example.com/',
  TRICENTER_APPROVAL_LINK_TTL: '8h',
};
const VPC = { TRICENTER_VPC_ID: 'vpc-bp1example', TRICENTER_VSWITCH_IDS: 'vsw-a,vsw-b', TRICENTER_SECURITY_GROUP_ID: 'sg-bp1example' };

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tricenter-s-home-'));
  guardLog = join(home, 'network-attempts.log');
  // The CLI checks npm for a newer version once a day in a child process; "checked" keeps it quiet.
  mkdirSync(join(home, '.s', 'config'), { recursive: true });
  writeFileSync(join(home, '.s', 'config', 'update-notifier.json'), JSON.stringify({ lastUpdateCheck: 8.64e15 }));
  await s([
    'config',
    'add',
    '--AccountID',
    ACCOUNT_ID,
    '--AccessKeyID',
    'LTAI-dummy-key',
    '--AccessKeySecret',
    'dummy-secret',
    '-a',
    'default',
    '-f',
  ]);
  // Usage reports go to an SLS endpoint after each component command; the README says how to stop them.
  await s(['set', 'analysis', 'disable']);
  // `config add` asks STS about the key and saves it anyway when that fails: the one attempt allowed.
  expect(networkAttempts().every((line) => / connect sts\.[a-z0-9-]+\.aliyuncs\.com:443$/.test(line))).toBe(true);
  rmSync(guardLog, { force: true });
}, 2 * CLI_TIMEOUT_MS);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('s.yaml through the Serverless Devs CLI, offline', () => {
  let rendered: Rendered;
  let moved: Rendered;
  let unknownAlias: string;
  let halfVpc: { ok: boolean; output: string };
  let otsVpcOutsideVpc: { ok: boolean; output: string };
  // The previews are independent: run at once, they cost one CLI start-up of wall time, not five.
  beforeAll(async () => {
    const preview = ['preview', '-o', 'json'];
    // The CLI keeps state files in its HOME: each concurrent run gets its own copy of the configured one.
    const own = (n: number) => {
      const copy = join(home, `run-${n}`);
      cpSync(join(home, '.s'), join(copy, '.s'), { recursive: true });
      return { HOME: copy };
    };
    const runs = await Promise.all([
      outcome(preview, own(0)),
      outcome([...preview, '-a', 'not-configured'], own(1)),
      outcome(preview, { ...own(2), TRICENTER_VPC_ID: VPC.TRICENTER_VPC_ID, TRICENTER_SECURITY_GROUP_ID: VPC.TRICENTER_SECURITY_GROUP_ID }),
      outcome(preview, { ...own(3), TRICENTER_OTS_NETWORK: 'vpc' }),
      outcome(preview, { ...own(4), ...MOVED, ...VPC, ...NOTIFY, TRICENTER_OTS_NETWORK: 'vpc' }),
    ]);
    for (const run of [runs[0], runs[1], runs[4]]) expect(run.ok, run.output).toBe(true);
    rendered = JSON.parse(runs[0].output) as Rendered;
    unknownAlias = runs[1].output;
    [halfVpc, otsVpcOutsideVpc] = [runs[2], runs[3]];
    moved = JSON.parse(runs[4].output) as Rendered;
  }, 2 * CLI_TIMEOUT_MS);

  it('renders with `s preview -o json` and no `-a`: the access alias is resolved, nothing goes to the network', () => {
    expect(rendered.access).toBe('default');
    expect(Object.keys(rendered.resources).sort()).toEqual([...FUNCTIONS].sort());
    for (const [name, { component, props }] of Object.entries(rendered.resources)) {
      expect(component).toBe('fc3');
      expect(props.role).toBe(`acs:ram::${ACCOUNT_ID}:role/tricenter-fc`);
      expect(props.code).toBe(`./dist/${name}`);
    }
    expect(JSON.stringify(rendered)).not.toMatch(/\$\{/);
    expect(rendered.actions['pre-deploy']?.map((a) => a.run)).toEqual(['npm run build']);
    expect(networkAttempts()).toEqual([]);
  });

  it('shows an unconfigured alias: the account id stays unresolved (preview does not fail, so this suite checks for it)', () => {
    expect(unknownAlias).toContain("acs:ram::${config('AccountID')}:role/tricenter-fc");
  });

  const validate = new Ajv({ allErrors: true, strict: false }).compile(
    JSON.parse(readFileSync('test/fixtures/fc3-props.schema.json', 'utf8')) as object,
  );
  it.each([...FUNCTIONS])('%s: the rendered props satisfy the published fc3 schema', (name) => {
    const ok = validate(rendered.resources[name]?.props);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('sets no instanceConcurrency on a built-in runtime (FC 3.0 accepts it only on custom runtimes)', () => {
    for (const { props } of Object.values(rendered.resources)) {
      if (!props.runtime.startsWith('custom')) expect(props).not.toHaveProperty('instanceConcurrency');
    }
  });

  it('triggers bundle ingest only for completed objects, never on multipart parts', () => {
    const oss = (rendered.resources['bundle-ingest']?.props.triggers ?? []).filter((t) => t.triggerType === 'oss');
    // Every key under bundles/ reaches ingest, whose key rule records the ones it refuses (a suffix filter is case-sensitive: web.YAML would pass unseen).
    expect(oss.map((t) => t.triggerConfig.filter)).toEqual([{ key: { prefix: 'bundles/' } }]);
    for (const trigger of oss) {
      expect([...(trigger.triggerConfig.events as string[])].sort()).toEqual([
        'oss:ObjectCreated:CompleteMultipartUpload',
        'oss:ObjectCreated:CopyObject',
        'oss:ObjectCreated:PostObject',
        'oss:ObjectCreated:PutObject',
      ]);
    }
    const everyEvent = oss.flatMap((t) => t.triggerConfig.events as string[]);
    for (const early of [
      'oss:ObjectCreated:*',
      'oss:ObjectCreated:InitiateMultipartUpload',
      'oss:ObjectCreated:UploadPart',
      'oss:ObjectCreated:UploadPartCopy',
    ]) {
      expect(everyEvent).not.toContain(early);
    }
  });

  it('allows on the approval trigger exactly the methods the approval router serves (probed, not listed)', async () => {
    const schema = JSON.parse(readFileSync('test/fixtures/fc3-props.schema.json', 'utf8')) as {
      definitions: { IHttpTriggerConfig: { properties: { methods: { items: { enum: string[] } } } } };
    };
    const candidates = schema.definitions.IHttpTriggerConfig.properties.methods.items.enum;
    const served = await methodsServedByApprovalRouter(candidates);
    expect(served).toContain('PUT'); // bundle upload: what the issue found refused
    const http = rendered.resources.approval?.props.triggers?.find((t) => t.triggerType === 'http');
    expect(http?.triggerConfig.authType).toBe('anonymous');
    expect([...(http?.triggerConfig.methods as string[])].sort()).toEqual(served);
  });

  it('has no VPC by default: the empty form the fc3 component itself sends for "none"', () => {
    for (const { props } of Object.values(rendered.resources))
      expect(props.vpcConfig).toEqual({ vpcId: '', vSwitchIds: [], securityGroupId: '' });
  });

  it('refuses a half-configured VPC, naming the missing variable', () => {
    expect(halfVpc.ok).toBe(false);
    expect(halfVpc.output).toContain("env('TRICENTER_VSWITCH_IDS') not found");
  });

  it('refuses the Tablestore VPC endpoint for functions outside a VPC', () => {
    expect(otsVpcOutsideVpc.ok).toBe(false);
    expect(otsVpcOutsideVpc.output).toContain("env('TRICENTER_VPC_ID') not found");
  });

  it('leaves the Tablestore endpoint to the one derivation setup also uses', () => {
    for (const { props } of Object.values(rendered.resources)) {
      expect(props.environmentVariables.TRICENTER_OTS_ENDPOINT).toBe('');
      expect(cloudConfig(props.environmentVariables).otsEndpoint).toBe('https://tricenter.cn-hangzhou.ots.aliyuncs.com');
    }
    expect(setupTarget({}, { TRICENTER_OTS_INSTANCE: 'tricenter' }).endpoint).toBe('https://tricenter.cn-hangzhou.ots.aliyuncs.com');
  });

  it('follows the environment: another region and instance reach functions and setup alike; the VPC reaches every function', () => {
    for (const { props } of Object.values(moved.resources)) {
      expect(props.region).toBe('cn-shanghai');
      expect(props.vpcConfig).toEqual({ vpcId: 'vpc-bp1example', vSwitchIds: ['vsw-a', 'vsw-b'], securityGroupId: 'sg-bp1example' });
      expect(cloudConfig(props.environmentVariables).otsEndpoint).toBe('https://prod-runs.cn-shanghai.vpc.tablestore.aliyuncs.com');
      expect(props.environmentVariables).toMatchObject(NOTIFY);
      expect(cloudConfig(props.environmentVariables).approvalLinkTtlMs).toBe(8 * 3600_000);
    }
    for (const { props } of Object.values(rendered.resources)) {
      expect(props.environmentVariables).toMatchObject({
        TRICENTER_NOTIFIERS: '',
        TRICENTER_APPROVAL_URL: '',
        TRICENTER_APPROVAL_LINK_TTL: '',
      });
      expect(cloudConfig(props.environmentVariables).approvalLinkTtlMs).toBeUndefined();
    }
    // The operator runs setup from outside the VPC: the public form of the same instance.
    expect(setupTarget({}, MOVED).endpoint).toBe('https://prod-runs.cn-shanghai.ots.aliyuncs.com');
    expect(setupTarget({ network: 'vpc' }, MOVED).endpoint).toBe('https://prod-runs.cn-shanghai.vpc.tablestore.aliyuncs.com');
    expect(networkAttempts()).toEqual([]);
  });

  it(
    '`s deploy` without -a hands the fc3 component the rendered props and the dummy access',
    async () => {
      const cache = join(home, '.s', 'components', 'devsapp.cn', 'v3', 'fc3');
      mkdirSync(cache, { recursive: true });
      copyFileSync('test/ship/fc3-component-stub.cjs', join(cache, 'index.js'));
      writeFileSync(join(cache, '.s.lock'), JSON.stringify({ version: '0.1.22' }));
      try {
        const result = JSON.parse(await s(['deploy', '-y', '--skip-actions', '-o', 'json'])) as Record<
          string,
          { command: string; props: Props; credential: Record<string, string> }
        >;
        expect(Object.keys(result).sort()).toEqual([...FUNCTIONS].sort());
        for (const [name, seen] of Object.entries(result)) {
          expect(seen.command).toBe('deploy');
          expect(seen.props).toEqual(rendered.resources[name]?.props);
          expect(seen.credential).toMatchObject({ AccountID: ACCOUNT_ID });
        }
        expect(networkAttempts()).toEqual([]);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'without the component cached, `s deploy` stops at the registry download (the first network call)',
    async () => {
      const failure = await outcome(['deploy', '-y', '--skip-actions']);
      expect(failure.ok).toBe(false);
      expect(failure.output).toContain('offline test: network access refused');
      expect(networkAttempts().at(-1)).toMatch(/ connect api\.devsapp\.cn:443$/);
    },
    CLI_TIMEOUT_MS,
  );
});

/**
 * Which methods the approval handler routes: each candidate method on each documented path shape,
 * with an approver token and ports that fail if reached. A method it does not route is answered
 * 404 "no route"; any other answer means the router took the request.
 */
async function methodsServedByApprovalRouter(candidates: string[]): Promise<string[]> {
  const reached = (): never => {
    throw new Error('port reached');
  };
  const ports = new Proxy({}, { get: () => reached });
  const token = 'probe-approver-token-0123456789';
  const deps = {
    store: ports,
    queue: ports,
    gateway: ports,
    bundles: ports,
    registry: reached,
    clock: { now: () => Date.UTC(2026, 0, 1) },
    logger: silentLogger,
    newId: () => 'run-probe',
    healthWait: { attempts: 1, intervalMs: 0 },
    auth: { tokens: [{ name: 'probe', token, scope: 'approver' }] },
    replay: { firstUse: async () => true },
    bucket: 'probe-bucket',
  } as unknown as ApprovalDeps;
  const handler = createApprovalHandler(async () => deps);
  const served = new Set<string>();
  for (const method of candidates) {
    for (const path of [
      '/apps/demo/web-demo',
      '/apps/demo/web-demo/runs',
      '/apps/demo/web-demo/bundle',
      '/apps/demo/web-demo/approve',
      '/apps/demo/web-demo/rollback',
    ]) {
      const event: HttpTriggerEvent = {
        version: 'v1',
        rawPath: path,
        body: '{}',
        isBase64Encoded: false,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        queryParameters: {},
        requestContext: { http: { method, path } },
      };
      const response = await handler(Buffer.from(JSON.stringify(event)), { requestId: `probe-${method}-${path}` });
      const body = JSON.parse(response.body) as { message?: string };
      const unrouted = response.statusCode === 405 || (response.statusCode === 404 && body.message?.startsWith('no route'));
      if (!unrouted) served.add(method);
    }
  }
  return [...served].sort();
}
