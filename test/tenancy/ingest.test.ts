import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { variantOfWebDemo } from '../e2e/bundles.ts';
import { startTestTwin, waitFor } from '../e2e/helpers.ts';
import { packTarGz } from '../e2e/pack.ts';

/**
 * Hostile bundles through the real ingest path (bucket key -> load -> render -> admission) on the
 * local twin: each is a failed record naming file, document and field, and nothing is applied.
 */
const toNamespace = (namespace: string) => (text: string) => text.replaceAll('namespace: demo', `namespace: ${namespace}`);

const cases: Array<{ name: string; app: AppRef; edits: Record<string, (text: string) => string>; says: RegExp }> = [
  {
    name: 'an object written into kube-system',
    app: { namespace: 'demo', name: 'web-demo' },
    edits: {
      'app-meta.yaml': (t) =>
        t.replace(
          'kind: ConfigMap\nmetadata:\n  name: web-demo\n  namespace: demo',
          'kind: ConfigMap\nmetadata:\n  name: web-demo\n  namespace: kube-system',
        ),
      'app.yaml': (t) =>
        t.replace(
          'kind: ConfigMap\n            name: web-demo',
          'kind: ConfigMap\n            name: web-demo\n            namespace: kube-system',
        ),
    },
    says: /^app-meta\.yaml \(document 4, ConfigMap kube-system\/web-demo\) field metadata\.namespace: .*"kube-system" belongs to the cluster itself/,
  },
  {
    name: 'a Service name the API server refuses (the valid objects must not be applied first)',
    app: { namespace: 'demo', name: 'web-demo' },
    edits: {
      'app-meta.yaml': (t) => t.replace('kind: Service\nmetadata:\n  name: web-demo', 'kind: Service\nmetadata:\n  name: web.demo'),
      'app.yaml': (t) => t.replace('kind: Service\n            name: web-demo', 'kind: Service\n            name: web.demo'),
    },
    says: /^app-meta\.yaml \(document 2, Service demo\/web\.demo\) field metadata\.name: metadata\.name "web\.demo" of Service demo\/web\.demo must be a DNS-1035 label/,
  },
  {
    name: "another tenant naming the demo's GTM domain",
    app: { namespace: 'rt', name: 'web-demo' },
    edits: { 'app.yaml': toNamespace('rt'), 'app-meta.yaml': toNamespace('rt'), 'traffic.yaml': toNamespace('rt') },
    says: /^traffic\.yaml \(document 1, TrafficPolicy rt\/web-demo\) field spec\.domain: .*tenant "rt" may use none/,
  },
];

describe('tenancy and names at ingest, on the local twin', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin());
  });
  afterAll(async () => cleanup?.());

  it.each(cases.map((c) => [c.name, c] as const))('%s is refused and nothing is applied', async (_name, c) => {
    // The cases refuse for different reasons: a new reason is the new record (no clock involved).
    const before = await client.status(c.app).then(
      (s) => s.lastFailedIngest?.error,
      () => undefined,
    );
    // Sent as any OSS client could, past the CLI's own checks.
    await client.upload(c.app, { app: c.app, format: 'tar.gz', data: await packTarGz(variantOfWebDemo(c.edits)) });
    const status = await waitFor(
      () => client.status(c.app),
      (s) => s.lastFailedIngest !== undefined && s.lastFailedIngest.error !== before,
      10_000,
      'the failed record',
    );
    expect(status.lastFailedIngest?.error).toMatch(c.says);
    expect(status.phase).toBe('none');
    for (const cluster of twin.sandbox.clusters) expect(await twin.deps.gateway.listOwned(cluster.name, c.app)).toEqual([]);
  });
});
