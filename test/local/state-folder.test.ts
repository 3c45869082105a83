import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '#shared/platform/log.ts';
import { LOCAL_BUCKET, startLocalTwin, type LocalTwinOptions } from '#local/twin.ts';
import { ApiClient, packBundle } from '#cli/client.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { WEB_DEMO, waitFor } from '../e2e/helpers.ts';
import { LOCK_FILE, lockStateFolder, MANIFEST_FILE, readManifest, StateFolderError } from '#local/state-folder.ts';

/** The state folder a local twin resumes: its lock, its manifest, and refusals that name the file. */
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tricenter-state-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const twinOptions = (extra: Partial<LocalTwinOptions> = {}): LocalTwinOptions => ({
  dir,
  clustersFile: 'examples/web-demo/clusters.yaml',
  readyDelayMs: 0,
  dataPlanePort: 0,
  approvalPort: 0,
  probeIntervalScale: 0.01,
  timerIntervalMs: 60_000,
  logger: silentLogger,
  ...extra,
});

/** Every file of the folder with its bytes: to show a refusal changed nothing. */
function snapshot(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const path of ['twin.json', 'state.db', 'gtm-state.json', 'sandbox/objects.db']) {
    if (existsSync(join(dir, path))) files[path] = readFileSync(join(dir, path)).toString('base64');
  }
  return files;
}

/** A folder a twin ran on and stopped cleanly. */
async function usedFolder(): Promise<void> {
  const twin = await startLocalTwin(twinOptions());
  await twin.stop();
}

describe('state folder lock', () => {
  it('one holder at a time: a second one is refused with the pid, and the lock can be taken after release', () => {
    const lock = lockStateFolder(dir);
    expect(() => lockStateFolder(dir)).toThrow(
      new RegExp(`state folder ${dir} is in use by another tricenter local up \\(pid ${process.pid}`),
    );
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lockStateFolder(dir).release();
  });

  it('the lock of a dead process is taken over', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead }));
    const lock = lockStateFolder(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual({ pid: process.pid });
    lock.release();
  });

  it('a lock file that is not ours is refused, not overwritten', () => {
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    expect(() => lockStateFolder(dir)).toThrow(/is not a tricenter lock: if no tricenter uses .* delete .*lock/);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('garbage');
  });
});

describe('resuming a state folder', () => {
  it('keeps the token, the HMAC secret, the GTM key and the approval port; resumes in well under a second of twin time', async () => {
    const first = await startLocalTwin(twinOptions());
    expect(first.resumed).toBe(false);
    const before = { endpoints: first.endpoints, hmac: first.deps.auth.hmacSecret };
    await first.stop();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);

    const startedAt = performance.now();
    const second = await startLocalTwin(twinOptions());
    const tookMs = performance.now() - startedAt;
    console.log(`resume: startLocalTwin on an existing state folder took ${tookMs.toFixed(0)} ms`);
    try {
      expect(second.resumed).toBe(true);
      expect(second.endpoints).toMatchObject({
        approvalUrl: before.endpoints.approvalUrl,
        token: before.endpoints.token,
        gtm: { accessKeySecret: before.endpoints.gtm.accessKeySecret },
      });
      expect(second.deps.auth.hmacSecret).toBe(before.hmac);
      // The manifest holds secrets: its owner reads it, nobody else.
      expect(statSync(join(dir, MANIFEST_FILE)).mode & 0o777).toBe(0o600);
    } finally {
      await second.stop();
    }
  }, 60_000);
});

describe('an upload whose ingest was killed halfway', () => {
  it("is ingested by the next start: the dead process's claim does not hold it", async () => {
    await usedFolder();
    const packed = await packBundle('examples/web-demo');
    const uploaded = await new FolderBucket(join(dir, 'bucket')).put(LOCAL_BUCKET, 'bundles/demo/web-demo.tar.gz', packed.data);
    // What a twin killed between claiming the ingest and finishing it leaves behind.
    const store = new SqliteRunStore({ path: join(dir, 'state.db') });
    expect((await store.claimIngest({ bucket: LOCAL_BUCKET, key: uploaded.key, etag: uploaded.etag }, Date.now() - 1000)).claimed).toBe(
      true,
    );
    await store.close();

    const twin = await startLocalTwin(twinOptions({ healthWait: { totalMs: 3000, pollMs: 25 } }));
    try {
      const client = new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: twin.endpoints.token });
      const status = await waitFor(
        () => client.status(WEB_DEMO),
        (s) => s.runId !== undefined,
        20_000,
        'a run of the upload',
      );
      expect(status.publishVersion).toBe('version8');
    } finally {
      await twin.stop();
    }
  }, 60_000);
});

describe('resuming when the previous approval port is taken', () => {
  it('listens on another port and records it', async () => {
    const first = await startLocalTwin(twinOptions());
    const previousPort = Number(new URL(first.endpoints.approvalUrl).port);
    await first.stop();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(previousPort, '127.0.0.1', resolve));
    try {
      const second = await startLocalTwin(twinOptions());
      const port = Number(new URL(second.endpoints.approvalUrl).port);
      await second.stop();
      expect(port).not.toBe(previousPort);
      expect(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'))).toMatchObject({ approval: { port } });
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);
});

describe('abuse: what cannot be resumed is refused with the file named, and nothing is wiped', () => {
  it('--fresh while another twin holds the folder: refused before anything is wiped', async () => {
    await usedFolder();
    const before = snapshot();
    const other = lockStateFolder(dir);
    try {
      await expect(startLocalTwin(twinOptions({ fresh: true }))).rejects.toThrow(/is in use by another tricenter local up/);
      expect(snapshot()).toEqual(before);
    } finally {
      other.release();
    }
  }, 60_000);

  it('a truncated manifest', async () => {
    await usedFolder();
    const manifest = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
    writeFileSync(join(dir, MANIFEST_FILE), manifest.slice(0, 40));
    const before = snapshot();
    await expect(startLocalTwin(twinOptions())).rejects.toThrow(
      new RegExp(`state file ${join(dir, MANIFEST_FILE)} is not valid JSON .*truncated or damaged; start with --fresh`),
    );
    expect(snapshot()).toEqual(before);
    // The refusal let go of the lock: --fresh may start at once.
    const fresh = await startLocalTwin(twinOptions({ fresh: true }));
    expect(fresh.resumed).toBe(false);
    await fresh.stop();
  }, 60_000);

  it('a manifest of a newer format', async () => {
    await usedFolder();
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, format: 2 }));
    const before = snapshot();
    await expect(startLocalTwin(twinOptions())).rejects.toThrow(
      /has format 2 \(in .*twin\.json\); this tricenter reads format 1: use the tricenter that wrote it, or start with --fresh/,
    );
    expect(snapshot()).toEqual(before);
  }, 60_000);

  it('a damaged GTM emulator state file', async () => {
    await usedFolder();
    writeFileSync(join(dir, 'gtm-state.json'), '{"format":1,"instanceId":');
    const before = snapshot();
    await expect(startLocalTwin(twinOptions())).rejects.toThrow(
      new RegExp(`GTM emulator state file ${join(dir, 'gtm-state.json')} is not valid JSON.*start with --fresh`),
    );
    expect(snapshot()).toEqual(before);
  }, 60_000);

  it('a damaged sandbox state file', async () => {
    await usedFolder();
    writeFileSync(join(dir, 'sandbox/objects.db'), 'not a database at all\n'.repeat(300));
    const before = snapshot();
    await expect(startLocalTwin(twinOptions())).rejects.toThrow(
      new RegExp(`sandbox state file ${join(dir, 'sandbox/objects.db')} cannot be read .*start with --fresh`),
    );
    expect(snapshot()).toEqual(before);
  }, 60_000);

  it("a run store deleted behind the manifest's back", async () => {
    await usedFolder();
    rmSync(join(dir, 'state.db'));
    await expect(startLocalTwin(twinOptions())).rejects.toThrow(
      /state\.db is missing or empty, but twin\.json says the twin ran before: its runs are lost; start with --fresh/,
    );
  }, 60_000);

  it('state files without a manifest, and a folder used with the other kind of clusters', () => {
    mkdirSync(join(dir, 'bucket'));
    writeFileSync(join(dir, 'state.db'), '');
    expect(() => readManifest(dir, { kind: 'sandbox' })).toThrow(/holds state\.db, bucket but no twin\.json .*start with --fresh/);
    rmSync(join(dir, 'state.db'));
    rmSync(join(dir, 'bucket'), { recursive: true });
    expect(readManifest(dir, { kind: 'sandbox' })).toBeUndefined();

    writeFileSync(
      join(dir, MANIFEST_FILE),
      JSON.stringify({
        format: 1,
        createdAt: 1,
        clusters: { kind: 'sandbox' },
        approval: { tokens: [{ name: 'a', token: 'x'.repeat(32), scope: 'approver' }], hmacSecret: 'y'.repeat(32) },
        gtm: { accessKeyId: 'k', accessKeySecret: 'z'.repeat(24) },
      }),
    );
    expect(() => readManifest(dir, { kind: 'kubeconfig', path: '/k' })).toThrow(StateFolderError);
    expect(() => readManifest(dir, { kind: 'kubeconfig', path: '/k' })).toThrow(
      /was used with simulated clusters; its runs do not describe these clusters/,
    );
  });
});
