/**
 * The gtm-reconcile handler asks for the port of the version the cluster registry gives the
 * policy's instance (3.0 unless the registry says 2.0), and the reconcile writes that GTM's API:
 * CloudGtm* for 3.0, DnsGtm* for 2.0. Both GTMs are the msw fakes; the store is a test double
 * answering the four reads the handler makes.
 */
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGtmReconcileHandler } from '#functions/gtm-reconcile/handler.ts';
import type { ClusterRegistry, GtmVersion } from '#shared/delivery/model/clusters.ts';
import type { Release } from '#shared/delivery/model/records.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { FakeAlidns } from './alidns-msw.ts';
import { claimsHeld } from './claims-held.ts';
import { FakeCloudGtm } from './cloudgtm-msw.ts';
import { SEED_ADDRESSES, seedPolicy, seedRegistry } from './fixtures.ts';

const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-handler', accessKeySecret: 'handler-secret' };
const INSTANCE = 'gtm-cn-handler';
const APP = { namespace: 'demo', name: 'web-demo' };

/** The reads of RunStore the handler makes: the app record, its run, the run's release, and the GTM claims. */
function storeDouble(): RunStore {
  const policy = seedPolicy();
  const release = { plan: { traffic: [policy] } } as unknown as Release;
  const claims = claimsHeld(policy, INSTANCE);
  const double: Pick<RunStore, 'getApp' | 'getRun' | 'getRelease' | 'getTrafficClaim' | 'listApps'> = {
    getApp: async () => ({ ...APP, currentRunId: 'run-1', version: 1 }) as unknown as Awaited<ReturnType<RunStore['getApp']>>,
    getRun: async () => ({ id: 'run-1', releaseId: 'rel-1' }) as unknown as Awaited<ReturnType<RunStore['getRun']>>,
    getRelease: async () => release,
    getTrafficClaim: claims.getTrafficClaim,
    listApps: async () => ({ items: [] }),
  };
  return double as RunStore;
}

describe('gtm-reconcile picks the GTM version of the instance from the registry', () => {
  const server = setupServer();
  let v3: FakeCloudGtm;
  let v2: FakeAlidns;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());
  beforeEach(() => {
    v3 = new FakeCloudGtm({ endpoint: `${ENDPOINT}/v3`, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: [INSTANCE] });
    v2 = new FakeAlidns({ endpoint: `${ENDPOINT}/v2`, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: [INSTANCE] });
    server.resetHandlers(...v3.handlers(), ...v2.handlers());
  });

  const reconcileWith = async (registry: ClusterRegistry) => {
    const asked: Array<[string | undefined, GtmVersion]> = [];
    const handler = createGtmReconcileHandler(async () => ({
      store: storeDouble(),
      registry: async () => registry,
      gateway: { ingressAddressesIn: async (cluster: string) => new Map([['web-demo', [SEED_ADDRESSES[cluster] as string]]]) },
      gtmFor: (instanceId, version) => {
        asked.push([instanceId, version]);
        const options = { instanceId: INSTANCE, credentials: KEY, maxAttempts: 1 };
        return version === '3.0'
          ? new AlidnsCloudGtm({ ...options, endpoint: `${ENDPOINT}/v3` })
          : new AlidnsGtm({ ...options, endpoint: `${ENDPOINT}/v2` });
      },
      history: new MemoryTrafficHistoryStore(),
      clock: { now: () => 1_700_000_000_000 },
      logger: silentLogger,
      dryRun: false,
    }));
    const event = { type: 'step-finished', app: APP, step: 'deploy-beijing' };
    await handler(Buffer.from(JSON.stringify(event)), { requestId: 'req-1', function: { name: 'tricenter-gtm-reconcile' } });
    return asked;
  };

  it('a registry entry without a version is GTM 3.0: CloudGtm* is written, DnsGtm* is not', async () => {
    const registry = seedRegistry();
    expect(await reconcileWith(registry)).toEqual([[undefined, '3.0']]);
    expect(v3.writes()).toContain('CreateCloudGtmInstanceConfig');
    expect(v2.calls).toEqual([]);
  });

  it('an entry that says 2.0 keeps the GTM 2.0 adapter', async () => {
    const registry = seedRegistry();
    for (const tenant of registry.tenants ?? []) for (const entry of tenant.gtm) entry.version = '2.0';
    expect(await reconcileWith(registry)).toEqual([[undefined, '2.0']]);
    expect(v2.callsOf('AddDnsGtmAccessStrategy')).toBe(1);
    expect(v3.calls).toEqual([]);
  });
});
