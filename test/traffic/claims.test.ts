import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { memoryLogger, silentLogger } from '#shared/platform/log.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import { trafficTargets } from '#shared/traffic/domain/claims.ts';
import { reconcileTraffic } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { claimTrafficAtIngest } from '#shared/traffic/usecases/traffic-claims.ts';
import { FakeAlidns } from './alidns-msw.ts';
import { SEED_ADDRESSES, seedPolicy, seedRegistry } from './fixtures.ts';

/**
 * GTM hijack, refused: a (GTM instance, domain) belongs to the first application that claims it at
 * ingest; another application naming the instance or the domain is refused with the owner's name and
 * leaves no claim; the reconciler writes only inside its own claims, whatever a policy names.
 */
const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-claims', accessKeySecret: 'claims-secret' };
const VICTIM_INSTANCE = 'gtm-cn-victim';
const SPARE_INSTANCE = 'gtm-cn-spare';
const T0 = 1_700_000_000_000;
const WRITES = /^(Add|Update|Set|Delete)/;
const victim: AppRef = { namespace: 'demo', name: 'web-demo' };
const attacker: AppRef = { namespace: 'rt', name: 'hijack' };

function policyOf(app: AppRef, spec: Partial<TrafficPolicy['spec']> = {}): TrafficPolicy {
  const policy = seedPolicy();
  return { ...policy, metadata: { ...policy.metadata, namespace: app.namespace, name: app.name }, spec: { ...policy.spec, ...spec } };
}

describe('GTM claims', () => {
  const server = setupServer();
  let fake: FakeAlidns;
  let store: SqliteRunStore;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());
  beforeEach(async () => {
    fake = new FakeAlidns({
      endpoint: ENDPOINT,
      keys: { [KEY.accessKeyId]: KEY.accessKeySecret },
      instances: [VICTIM_INSTANCE, SPARE_INSTANCE],
    });
    server.resetHandlers(...fake.handlers());
    store?.close();
    store = new SqliteRunStore({ path: ':memory:' });
    await claimTrafficAtIngest(store, victim, [policyOf(victim)], VICTIM_INSTANCE, T0, silentLogger);
  });

  const gtmOf = (instanceId: string) => new AlidnsGtm({ endpoint: ENDPOINT, instanceId, credentials: KEY, sleep: async () => {} });
  const gateway = { ingressAddresses: async (cluster: string) => [SEED_ADDRESSES[cluster] as string] };
  const reconcile = (
    policy: TrafficPolicy,
    instanceId: string,
    extra: { history?: MemoryTrafficHistoryStore; logger?: ReturnType<typeof memoryLogger>; now?: number } = {},
  ) =>
    reconcileTraffic({
      policy,
      registry: seedRegistry(),
      gateway,
      gtm: gtmOf(instanceId),
      claims: store,
      history: extra.history ?? new MemoryTrafficHistoryStore(),
      logger: extra.logger ?? silentLogger,
      now: extra.now ?? T0,
      dryRun: false,
    });
  const claimsOf = async (app: AppRef) => (await store.releaseTrafficClaims(app)).map((c) => c.resource).sort();

  it('claims the instance and the domain for the application; the default instance stands in for a policy naming none', async () => {
    expect(await store.getTrafficClaim(`gtm-instance/${VICTIM_INSTANCE}`)).toEqual({
      resource: `gtm-instance/${VICTIM_INSTANCE}`,
      app: victim,
      instanceId: VICTIM_INSTANCE,
      domain: 'web-demo.example.com',
      claimedAt: T0,
    });
    // Uploading again (a new version) keeps the claims as they were.
    await claimTrafficAtIngest(
      store,
      victim,
      [policyOf(victim, { domain: 'WEB-DEMO.example.com.' })],
      VICTIM_INSTANCE,
      T0 + 5,
      silentLogger,
    );
    expect((await store.getTrafficClaim('domain/web-demo.example.com'))?.claimedAt).toBe(T0);
  });

  it.each([
    [
      'the same domain on another instance',
      { domain: 'web-demo.example.com', gtmInstanceId: SPARE_INSTANCE },
      /\(TrafficPolicy rt\/hijack\) field spec\.domain: domain web-demo\.example\.com is claimed by application demo\/web-demo/,
    ],
    [
      'the same domain in other letters',
      { domain: 'Web-Demo.Example.COM', gtmInstanceId: SPARE_INSTANCE },
      /domain web-demo\.example\.com is claimed by application demo\/web-demo/,
    ],
    [
      'the same instance with another domain',
      { domain: 'evil.example.com', gtmInstanceId: VICTIM_INSTANCE },
      /\(TrafficPolicy rt\/hijack\) field spec\.gtmInstanceId: GTM instance gtm-cn-victim is claimed by application demo\/web-demo/,
    ],
    [
      'no instance, so the default one, with another domain',
      { domain: 'evil.example.com' },
      /GTM instance gtm-cn-victim is claimed by application demo\/web-demo/,
    ],
  ])('refuses another application naming %s, and writes no claim', async (_what, spec, refusal) => {
    const policy = policyOf(attacker, spec);
    await expect(claimTrafficAtIngest(store, attacker, [policy], VICTIM_INSTANCE, T0 + 1, silentLogger)).rejects.toThrow(refusal);
    expect(await claimsOf(attacker)).toEqual([]);
    expect(await store.getTrafficClaim('domain/evil.example.com')).toBeUndefined();
    expect(await store.getTrafficClaim(`gtm-instance/${SPARE_INSTANCE}`)).toBeUndefined();
  });

  it("refuses a TrafficPolicy carrying another application's name, and one naming no instance where none is configured", () => {
    expect(() => trafficTargets(attacker, [policyOf(victim)], VICTIM_INSTANCE)).toThrow(
      /\(TrafficPolicy demo\/web-demo\) field metadata: a TrafficPolicy belongs to its application: metadata must be namespace rt, name hijack/,
    );
    expect(() => trafficTargets(attacker, [policyOf(attacker)], undefined)).toThrow(
      /field spec\.gtmInstanceId: names no GTM instance and this deployment has no default one/,
    );
  });

  it('lets exactly one of two applications racing for a free domain have it', async () => {
    const racer: AppRef = { namespace: 'rt', name: 'racer' };
    const spec = { domain: 'free.example.com', gtmInstanceId: SPARE_INSTANCE };
    const results = await Promise.allSettled([
      claimTrafficAtIngest(store, attacker, [policyOf(attacker, spec)], VICTIM_INSTANCE, T0, silentLogger),
      claimTrafficAtIngest(store, racer, [policyOf(racer, spec)], VICTIM_INSTANCE, T0, silentLogger),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const holder = (await store.getTrafficClaim('domain/free.example.com'))!.app;
    expect((await store.getTrafficClaim(`gtm-instance/${SPARE_INSTANCE}`))!.app).toEqual(holder);
  });

  it("refuses a reconcile of the victim's instance by another application before any GTM call", async () => {
    await reconcile(policyOf(victim), VICTIM_INSTANCE);
    const before = fake.calls.length;
    const snapshot = JSON.stringify([...fake.pools.values(), ...fake.strategies.values(), ...fake.instances.values()]);
    const logger = memoryLogger();
    // A policy that got past ingest elsewhere (or a Gtm bound to the victim's instance whatever the policy names).
    const error = await reconcile(policyOf(attacker, { domain: 'evil.example.com', gtmInstanceId: 'gtm-cn-fake' }), VICTIM_INSTANCE, {
      logger,
    }).catch((err: unknown) => err);
    expect(String(error)).toMatch(
      /rt\/hijack: no GTM write: gtm-instance\/gtm-cn-victim is claimed by application demo\/web-demo; domain\/evil\.example\.com is not claimed by rt\/hijack/,
    );
    expect(fake.calls.slice(before)).toEqual([]);
    expect(JSON.stringify([...fake.pools.values(), ...fake.strategies.values(), ...fake.instances.values()])).toBe(snapshot);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg === 'traffic reconcile refused: outside its GTM claims')).toBe(true);
  });

  it('refuses to take an instance that answers for a domain another application holds, even with claims of its own', async () => {
    await reconcile(policyOf(victim), VICTIM_INSTANCE);
    // An instance nobody claimed (set up before claims existed) that answers for the victim's domain: the attacker claims it.
    await store.releaseTrafficClaims(victim);
    await store.claimTraffic({
      resource: 'domain/web-demo.example.com',
      app: victim,
      instanceId: VICTIM_INSTANCE,
      domain: 'web-demo.example.com',
      claimedAt: T0,
    });
    const attackerPolicy = policyOf(attacker, { domain: 'evil.example.com', gtmInstanceId: VICTIM_INSTANCE });
    await claimTrafficAtIngest(store, attacker, [attackerPolicy], undefined, T0, silentLogger);
    const writesBefore = fake.calls.filter((c) => WRITES.test(c.action)).length;
    await expect(reconcile(attackerPolicy, VICTIM_INSTANCE)).rejects.toThrow(
      /rt\/hijack: no GTM write: GTM instance gtm-cn-victim answers for web-demo\.example\.com: domain\/web-demo\.example\.com is claimed by application demo\/web-demo/,
    );
    expect(fake.calls.filter((c) => WRITES.test(c.action))).toHaveLength(writesBefore);
    expect(fake.instances.get(VICTIM_INSTANCE)).toMatchObject({ PublicUserDomainName: 'web-demo.example.com' });
  });

  it('reports loudly when its pools were deleted or its domain changed by someone else, and puts them back', async () => {
    const history = new MemoryTrafficHistoryStore();
    await reconcile(policyOf(victim), VICTIM_INSTANCE, { history });
    const beijing = [...fake.pools.entries()].find(([, p]) => p.name === 'tricenter.demo.web-demo.pool-beijing')![0];
    fake.pools.delete(beijing);
    Object.assign(fake.instances.get(VICTIM_INSTANCE)!, { PublicUserDomainName: 'evil.example.com' });

    const logger = memoryLogger();
    const result = await reconcile(policyOf(victim), VICTIM_INSTANCE, { history, logger, now: T0 + 60_000 });
    const drift = logger.lines
      .filter((l) => l.level === 'error' && l.msg === 'GTM changed outside tricenter')
      .map((l) => String(l.message));
    expect(drift).toEqual([
      'pool tricenter.demo.web-demo.pool-beijing is gone from GTM although the last reconcile kept it: changed outside tricenter; it is re-created',
      'the GTM instance answers for evil.example.com, not web-demo.example.com: changed outside tricenter; the domain is written back',
    ]);
    expect(result.plan.changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['create-pool', 'update-global-config']));
    expect([...fake.pools.values()].map((p) => p.name)).toContain('tricenter.demo.web-demo.pool-beijing');
    expect(fake.instances.get(VICTIM_INSTANCE)).toMatchObject({ PublicUserDomainName: 'web-demo.example.com' });
  });

  it('releases the claims of a deleted application, and only then lets another claim them', async () => {
    expect(await claimsOf(victim)).toEqual([`domain/web-demo.example.com`, `gtm-instance/${VICTIM_INSTANCE}`]);
    await claimTrafficAtIngest(
      store,
      attacker,
      [policyOf(attacker, { domain: 'web-demo.example.com' })],
      VICTIM_INSTANCE,
      T0 + 2,
      silentLogger,
    );
    expect((await store.getTrafficClaim('domain/web-demo.example.com'))?.app).toEqual(attacker);
  });
});
