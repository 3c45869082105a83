import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import { resolveOnce } from '#local/drill.ts';
import type { LocalTwin } from '#local/twin.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { variantOfWebDemo } from './bundles.ts';
import { deploySeedToRunning, startTestTwin, waitFor } from './helpers.ts';

/**
 * A hostile tenant on the local twin, after demo/web-demo is running with its traffic in GTM:
 * bundles whose TrafficPolicy names web-demo's GTM instance or domain are refused at ingest with
 * the owner's name (no release, no run, no claim); a policy that gets past ingest by naming an
 * instance the twin routes to web-demo's anyway is refused by the reconciler; objects whose key
 * breaks the key rule are recorded as rejected uploads and never deployed. Through all of it,
 * web-demo's GTM state and DNS answers do not change.
 *
 * The registry lets tenant rt name web-demo's instance and domain (an operator's overlap): claims
 * hold where the tenant allow-list does not.
 */
const DOMAIN = 'web-demo.example.com';
const hijack: AppRef = { namespace: 'rt', name: 'hijack' };

function registryWithOverlappingTenant(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tricenter-registry-')), 'clusters.yaml');
  const rt = `
  - name: rt
    gtm:
      - instance: default
        domains: [${DOMAIN}, evil.example.com]
      - instance: gtm-cn-other
        domains: [${DOMAIN}]
      - instance: gtm-cn-elsewhere
        domains: [evil.example.com]
`;
  writeFileSync(file, `${readFileSync('examples/web-demo/clusters.yaml', 'utf8').trimEnd()}\n${rt}`);
  return file;
}

/** What GTM serves (not the probes' counters): pools and their addresses, checks, strategies, instance settings. */
function gtmConfig(twin: LocalTwin): string {
  const { domain, ttl, config, pools, monitors, strategies } = twin.gtm.state();
  return JSON.stringify({
    domain,
    ttl,
    config,
    pools: pools.map((p) => ({
      id: p.id,
      name: p.name,
      lba: p.lbaStrategy,
      monitor: p.monitorConfigId,
      addresses: p.addresses.map((a) => [a.addr, a.mode]),
    })),
    monitors: monitors.map((m) => ({ id: m.id, status: m.status, extendInfo: m.extendInfo })),
    strategies: strategies.map((st) => ({ id: st.id, name: st.name, primary: st.defaultPoolIds, failover: st.failoverPoolIds })),
  });
}

/** examples/web-demo moved to rt/hijack, with a TrafficPolicy edited by `traffic`. */
function attackerBundle(traffic: (text: string) => string): string {
  const move = (text: string) => text.replaceAll('web-demo', 'hijack').replaceAll('namespace: demo', 'namespace: rt');
  return variantOfWebDemo({ 'app.yaml': move, 'app-meta.yaml': move, 'traffic.yaml': (text) => traffic(move(text)) });
}

describe('hostile tenant: GTM hijack and key tricks, refused with nothing changed', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let store: SqliteRunStore;
  const logger = memoryLogger();
  let gtmBefore: string;
  let dnsBefore: string[];

  const gtmNow = () => gtmConfig(twin);
  const upload = async (dir: string) => {
    const packed = await packBundle(dir);
    return client.waitForIngest(await client.upload(packed.app, packed), { timeoutMs: 20_000, pollMs: 50 });
  };

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({ logger, clustersFile: registryWithOverlappingTenant(), gtmVersion: '2.0' }));
    await deploySeedToRunning(client);
    await waitFor(
      async () => twin.gtm.state().pools.filter((p) => p.addresses.length > 0).length,
      (n) => n === 2,
      30_000,
      'web-demo pools in GTM',
    );
    store = new SqliteRunStore({ path: twin.endpoints.store });
    await twin.reconcileTraffic();
    gtmBefore = gtmNow();
    dnsBefore = (await resolveOnce(twin.endpoints.gtm.dns, DOMAIN)).sort();
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it.each([
    [
      "web-demo's domain on the default instance",
      (t: string) => t.replace('domain: hijack.example.com', `domain: ${DOMAIN}`),
      /GTM instance \S+ is claimed by application demo\/web-demo/,
    ],
    [
      "web-demo's domain on another instance",
      (t: string) => t.replace('domain: hijack.example.com', `domain: ${DOMAIN}\n  gtmInstanceId: gtm-cn-other`),
      /domain web-demo\.example\.com is claimed by application demo\/web-demo/,
    ],
    [
      "another domain on web-demo's (default) instance",
      (t: string) => t.replace('domain: hijack.example.com', 'domain: evil.example.com'),
      /GTM instance \S+ is claimed by application demo\/web-demo/,
    ],
  ])('refuses a TrafficPolicy naming %s at ingest, creating nothing', async (_what, edit, refusal) => {
    const outcome = await upload(attackerBundle(edit));
    expect(outcome).toMatchObject({ status: 'completed', outcome: 'failed' });
    expect((outcome as { error: string }).error).toMatch(refusal);
    expect((await store.listRuns(hijack)).items).toEqual([]);
    expect((await store.listReleases(hijack)).items).toEqual([]);
    expect(await store.getTrafficClaim('domain/evil.example.com')).toBeUndefined();
    expect(await store.getTrafficClaim('gtm-instance/gtm-cn-other')).toBeUndefined();
    expect((await store.getApp(hijack))?.currentRunId).toBeUndefined();
    expect(gtmNow()).toBe(gtmBefore);
  });

  it("refuses the reconcile of a policy that names an instance the twin serves with web-demo's: no GTM write, DNS unchanged", async () => {
    const outcome = await upload(
      attackerBundle((t) => t.replace('domain: hijack.example.com', 'domain: evil.example.com\n  gtmInstanceId: gtm-cn-elsewhere')),
    );
    expect(outcome).toMatchObject({ status: 'completed', outcome: 'run-started' });
    const refused = await waitFor(
      async () => logger.lines.find((l) => l.msg === 'traffic reconcile refused: outside its GTM claims' && l.app === 'rt/hijack'),
      (line) => line !== undefined,
      20_000,
      'the refused reconcile of rt/hijack',
    );
    expect(String((refused?.problems as string[])[0])).toMatch(/^gtm-instance\/\S+ is claimed by application demo\/web-demo$/);
    await twin.reconcileTraffic();
    expect(gtmNow()).toBe(gtmBefore);
    expect((await resolveOnce(twin.endpoints.gtm.dns, DOMAIN)).sort()).toEqual(dnsBefore);
  });

  it('records objects whose key breaks the key rule, shows them to the tenant, and never deploys them', async () => {
    const seed = await packBundle('examples/web-demo');
    const keys = [
      'bundles/demo/sub/web-demo.tar.gz',
      'bundles/demo/web-demo.TAR.GZ',
      'bundles/demo/w\u0435b-demo.tar.gz',
      'bundles/demo/%2e%2e.tar.gz',
      'bundles/demo/web-demo.tar.gz.',
      `bundles/demo/${'a'.repeat(64)}.tar.gz`,
    ];
    const bucket = new FolderBucket(twin.endpoints.bucket.root);
    for (const key of keys) await bucket.put(twin.endpoints.bucket.name, key, seed.data);
    const runsBefore = (await store.listRuns({ namespace: 'demo', name: 'web-demo' })).items.length;

    const { rejectedUploads = [] } = await waitFor(
      () => client.runs({ namespace: 'demo', name: 'web-demo' }),
      (r) => (r.rejectedUploads ?? []).length === keys.length,
      20_000,
      'every bad key recorded',
    );
    expect(rejectedUploads.map((r) => r.source.key).sort()).toEqual([...keys].sort());
    expect(rejectedUploads.find((r) => r.source.key === 'bundles/demo/sub/web-demo.tar.gz')?.reason).toMatch(/no sub-folder/);
    expect(rejectedUploads.find((r) => r.source.key === 'bundles/demo/web-demo.TAR.GZ')?.reason).toMatch(/\(lower case\)/);
    expect(rejectedUploads.find((r) => r.source.key.includes('\u0435'))?.reason).toMatch(/non-ASCII/);
    expect((await client.status({ namespace: 'demo', name: 'web-demo' })).rejectedUploads).toHaveLength(keys.length);
    expect((await store.listRuns({ namespace: 'demo', name: 'web-demo' })).items).toHaveLength(runsBefore);
    expect((await store.listApps({ limit: 100 })).items.map((r) => `${r.app.namespace}/${r.app.name}`).sort()).toEqual([
      'demo/web-demo',
      'rt/hijack',
    ]);
    expect(gtmNow()).toBe(gtmBefore);
  });

  it('refuses an API upload whose application name would make a key the rule refuses: 400, nothing stored', async () => {
    const before = await new FolderBucket(twin.endpoints.bucket.root).list(twin.endpoints.bucket.name, { prefix: 'bundles/demo/' });
    const response = await fetch(`${twin.endpoints.approvalUrl.replace(/\/$/, '')}/apps/demo/web.v2/bundle`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${twin.endpoints.token}`, 'content-type': 'application/octet-stream', 'x-bundle-format': 'tar.gz' },
      body: (await packBundle('examples/web-demo')).data,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(
      /object key "bundles\/demo\/web\.v2\.tar\.gz": the application name "web\.v2" is not a DNS-1123 label/,
    );
    expect(await new FolderBucket(twin.endpoints.bucket.root).list(twin.endpoints.bucket.name, { prefix: 'bundles/demo/' })).toEqual(
      before,
    );
  });
});
