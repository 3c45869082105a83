import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '#sandbox/index.ts';
import { SandboxStateError, SandboxStateFile } from '#sandbox/kube/journal.ts';
import { findResource, type ResourceType } from '#sandbox/kube/resources.ts';
import { ObjectStore } from '#sandbox/kube/store.ts';
import { clientsFor, deployment } from './helpers.ts';

/** The sandbox's clusters kept in a SQLite file: what a restarted local twin finds again. */
const CONFIG_MAPS = findResource('', 'v1', 'configmaps') as ResourceType;
const CLUSTERS = [{ name: 'one', aliases: [], labels: {} }];

let dir: string;
let file: string;
let running: Sandbox | undefined;

async function start(options: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  running = await startSandbox({ clusters: CLUSTERS, dir, dataPlanePort: 0, readyDelayMs: 0, state: { file }, ...options });
  return running;
}

async function stop(): Promise<void> {
  await running?.stop();
  running = undefined;
}

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tricenter-sandbox-state-'));
  file = join(dir, 'objects.db');
});

afterEach(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sandbox state file', () => {
  it('objects, uids and resourceVersions come back; new writes continue above them; cluster IPs are not handed out twice', async () => {
    const c = clientsFor(await start(), 'one');
    await c.core.createNamespace({ body: { metadata: { name: 'demo' } } });
    const cm = await c.core.createNamespacedConfigMap({ namespace: 'demo', body: { metadata: { name: 'cfg' }, data: { a: '1' } } });
    const first = await c.core.createNamespacedService({
      namespace: 'demo',
      body: { metadata: { name: 'one' }, spec: { ports: [{ port: 80 }] } },
    });
    const listed = await c.core.listNamespacedConfigMap({ namespace: 'demo' });
    await stop();

    const again = clientsFor(await start(), 'one');
    const back = await again.core.readNamespacedConfigMap({ name: 'cfg', namespace: 'demo' });
    expect(back.metadata).toMatchObject({ uid: cm.metadata?.uid, resourceVersion: cm.metadata?.resourceVersion });
    expect(back.data).toEqual({ a: '1' });
    // The seed objects are not created twice: `default` is there once, with its old uid.
    expect((await again.core.listNamespace()).items.map((ns) => ns.metadata?.name).sort()).toEqual([
      'default',
      'demo',
      'kube-node-lease',
      'kube-public',
      'kube-system',
    ]);
    const later = await again.core.createNamespacedConfigMap({ namespace: 'demo', body: { metadata: { name: 'later' } } });
    expect(Number(later.metadata?.resourceVersion)).toBeGreaterThan(Number(listed.metadata?.resourceVersion));
    const second = await again.core.createNamespacedService({
      namespace: 'demo',
      body: { metadata: { name: 'two' }, spec: { ports: [{ port: 80 }] } },
    });
    expect(second.spec?.clusterIP).not.toBe(first.spec?.clusterIP);
    expect(second.spec?.clusterIP).not.toBe('10.96.0.1');
  });

  it('a rollout the restart interrupted completes afterwards; a finished one is left alone', async () => {
    const c = clientsFor(await start({ readyDelayMs: 3_600_000 }), 'one');
    await c.core.createNamespace({ body: { metadata: { name: 'demo' } } });
    await c.apps.createNamespacedDeployment({ namespace: 'demo', body: deployment('slow', 'demo') });
    await until(
      () => c.apps.readNamespacedDeployment({ name: 'slow', namespace: 'demo' }),
      (d) => d.status?.observedGeneration === 1,
      'the rollout to start',
    );
    await stop();

    const again = clientsFor(await start({ readyDelayMs: 0 }), 'one');
    const ready = await until(
      () => again.apps.readNamespacedDeployment({ name: 'slow', namespace: 'demo' }),
      (d) => d.status?.readyReplicas === 2,
      'the rollout to finish after the restart',
    );
    await stop();

    const third = clientsFor(await start({ readyDelayMs: 3_600_000 }), 'one');
    // Settled: the controllers write nothing (a write would bump the resourceVersion).
    await new Promise((resolve) => setImmediate(resolve));
    const settled = await third.apps.readNamespacedDeployment({ name: 'slow', namespace: 'demo' });
    expect(settled.metadata?.resourceVersion).toBe(ready.metadata?.resourceVersion);
    expect(settled.status?.readyReplicas).toBe(2);
  });

  it('a watch from before the restart is told its resourceVersion is too old (410), not given an empty history', () => {
    const state = SandboxStateFile.open(file);
    const store = new ObjectStore(state.cluster('one'));
    store.put(CONFIG_MAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'demo' } });
    const before = store.resourceVersion();
    store.put(CONFIG_MAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'demo' } });
    state.close();

    const reopened = SandboxStateFile.open(file, { mustExist: true });
    const restored = new ObjectStore(reopened.cluster('one'));
    expect(restored.resourceVersion()).toBe(before + 1);
    expect(restored.eventsSince(before)).toBeUndefined();
    expect(restored.eventsSince(restored.resourceVersion())).toEqual([]);
    reopened.close();
  });

  describe('abuse', () => {
    it('a file that is not a database is refused with its name, and left as it was', () => {
      writeFileSync(file, 'this is not sqlite, it was overwritten by accident\n'.repeat(100));
      expect(() => SandboxStateFile.open(file)).toThrow(SandboxStateError);
      expect(() => SandboxStateFile.open(file)).toThrow(new RegExp(`${file}.*cannot be read.*not a database`));
    });

    it('a file of another format is refused', () => {
      const db = new Database(file);
      db.exec('CREATE TABLE objects (x)');
      db.pragma('user_version = 7');
      db.close();
      expect(() => SandboxStateFile.open(file)).toThrow(/has format 7; this tricenter reads format 1/);
    });

    it('a resume whose file is missing or empty fails instead of starting empty clusters', async () => {
      await expect(start({ state: { file, mustExist: true } })).rejects.toThrow(/objects\.db is missing or empty/);
      writeFileSync(file, '');
      await expect(start({ state: { file, mustExist: true } })).rejects.toThrow(/objects\.db is missing or empty/);
    });
  });
});
