import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { writeClustersJson, writeClustersYaml } from '#cli/render-output.ts';
import { terminalSafeJson } from '#cli/terminal-text.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';

/** A stream that takes `budget` chunks, then says it is full and drains on the next tick. */
class SlowStream extends EventEmitter {
  chunks: string[] = [];
  waits = 0;
  constructor(private readonly budget = 2) {
    super();
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    if (this.chunks.length % this.budget !== 0) return true;
    this.waits += 1;
    setImmediate(() => this.emit('drain'));
    return false;
  }
}

const object = (kind: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, labels: { app: name } },
  ...extra,
});

const shared = object('ConfigMap', 'shared', { data: { 'a\u202eb': 'line\nbreak \u0007 \u2028' } });
const big = object('ConfigMap', 'big', { data: { text: 'x'.repeat(200_000) } });

const CASES: Array<[string, Map<string, KubeObject[]>]> = [
  ['no cluster', new Map()],
  ['a cluster without manifests', new Map([['empty', []]])],
  [
    'clusters sharing a manifest, odd names',
    new Map([
      ['bj1', [object('Deployment', 'web', { spec: { replicas: 2, list: [1, [2, {}], []] } }), shared]],
      ['10', [shared]],
      ['hz\u202e1', [shared, object('Service', 'api')]],
      ['2', []],
    ]),
  ],
  [
    'one manifest larger than a chunk',
    new Map([
      ['bj1', [big, shared]],
      ['bj2', [big]],
    ]),
  ],
];

describe('render -o json, streamed', () => {
  for (const [name, byCluster] of CASES) {
    it(`writes the bytes of the whole-value form: ${name}`, async () => {
      const out = new SlowStream();
      await writeClustersJson(byCluster, out);
      expect(out.chunks.join('')).toBe(`${terminalSafeJson(Object.fromEntries(byCluster))}\n`);
    });
  }

  it('writes in chunks and waits for the stream to drain', async () => {
    const byCluster = new Map(Array.from({ length: 30 }, (_, i) => [`c${i}`, [big]]));
    const out = new SlowStream(3);
    await writeClustersJson(byCluster, out);
    expect(out.chunks.length).toBeGreaterThan(10);
    expect(out.waits).toBeGreaterThan(3);
    expect(Math.max(...out.chunks.map((c) => c.length))).toBeLessThan(2 * 200_000 + 70_000);
  });

  it('fails when the stream fails while waiting', async () => {
    const out = new SlowStream(1);
    out.write = (chunk: string) => {
      out.chunks.push(chunk);
      setImmediate(() => out.emit('error', new Error('EPIPE')));
      return false;
    };
    await expect(writeClustersJson(new Map([['bj1', [big]]]), out)).rejects.toThrow('EPIPE');
  });
});

describe('render (YAML), streamed', () => {
  for (const [name, byCluster] of CASES) {
    it(`writes the documents joined by ---, each cluster's first with its comment: ${name}`, async () => {
      const out = new SlowStream();
      await writeClustersYaml(byCluster, out, (m) => stringify(m, { lineWidth: 0 }));
      const docs: string[] = [];
      for (const [cluster, manifests] of byCluster) {
        manifests.forEach((m, i) => {
          const body = stringify(m, { lineWidth: 0 });
          docs.push(i === 0 ? `# cluster: ${cluster}\n${body}` : body);
        });
      }
      expect(out.chunks.join('')).toBe(docs.join('---\n'));
    });
  }
});
