import { mkdtempSync, rmSync } from 'node:fs';
import { appendFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FolderBucket, md5Hex } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { watchFolderBucket, type BucketWatcher } from '#shared/delivery/adapters/local/folder-bucket-watcher.ts';
import { ossEventSchema, type OssEvent } from '#shared/platform/triggers/oss.ts';
import { describeBundleSourceContract } from '../contract/bundle-source.contract.ts';

const root = mkdtempSync(join(tmpdir(), 'tricenter-bucket-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const freshRoot = () => join(root, `r${++count}`);

describeBundleSourceContract('folder bucket', () => new FolderBucket(freshRoot()));

const bytes = (text: string) => new TextEncoder().encode(text);

describe('FolderBucket', () => {
  it('keeps objects at <root>/<bucket>/<key> and leaves no temporary file behind', async () => {
    const dir = freshRoot();
    const bucket = new FolderBucket(dir);
    await bucket.put('bundles', 'demo/app.yaml', bytes('x'));
    expect(await readdir(join(dir, 'bundles', 'demo'))).toEqual(['app.yaml']);
    expect(await readdir(join(dir, '.uploads'))).toEqual([]);
  });

  it.each(['../escape', 'a/../../b', '/abs', 'a//b', '.hidden', 'a/.uploads/x', 'back\\slash', ''])('refuses the key %j', async (key) => {
    const bucket = new FolderBucket(freshRoot());
    await expect(bucket.put('bundles', key, bytes('x'))).rejects.toThrow(/object key .* is not valid/);
  });

  it.each(['UPPER', 'ab', '-dash', 'has_underscore', '.uploads'])('refuses the bucket name %j', async (name) => {
    await expect(new FolderBucket(freshRoot()).head(name, 'k')).rejects.toThrow(/bucket name .* is not valid/);
  });

  it('describes what it read even when the file changed behind the cache', async () => {
    const dir = freshRoot();
    const bucket = new FolderBucket(dir);
    await bucket.put('bundles', 'k.yaml', bytes('first'));
    await writeFile(join(dir, 'bundles', 'k.yaml'), 'second, longer');
    const got = await bucket.get('bundles', 'k.yaml');
    expect(got).toMatchObject({ etag: md5Hex(bytes('second, longer')), size: 14 });
  });
});

/** Collects watcher events; `next(key)` resolves when an event for that key arrives. */
function eventLog() {
  const events: OssEvent[] = [];
  const waiters: Array<{ key: string; etag?: string; resolve: (e: OssEvent) => void }> = [];
  const matches = (e: OssEvent, key: string, etag?: string) =>
    e.events[0]!.oss.object.key === key && (etag === undefined || e.events[0]!.oss.object.eTag === etag);
  return {
    events,
    keys: () => events.map((e) => e.events[0]!.oss.object.key),
    onEvent: (e: OssEvent) => {
      events.push(e);
      for (const w of waiters.splice(0)) {
        if (matches(e, w.key, w.etag)) w.resolve(e);
        else waiters.push(w);
      }
    },
    /** Resolves on the first event for `key` (and `etag`) among events from index `from` on. */
    next: (key: string, etag?: string, from = 0) =>
      new Promise<OssEvent>((resolve) => {
        const seen = events.slice(from).find((e) => matches(e, key, etag));
        if (seen) resolve(seen);
        else waiters.push({ key, etag, resolve });
      }),
  };
}

describe('folder bucket watcher', () => {
  let watcher: BucketWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });

  it('reports existing objects on start, then new and changed ones, as OSS events', async () => {
    const bucket = new FolderBucket(freshRoot());
    const existing = await bucket.put('bundles', 'demo/old.yaml', bytes('old'));
    await bucket.put('bundles', 'elsewhere/skip.yaml', bytes('not under the prefix'));
    const log = eventLog();
    watcher = await watchFolderBucket(bucket, {
      bucket: 'bundles',
      prefix: 'demo/',
      debounceMs: 50,
      region: 'cn-hangzhou',
      onEvent: log.onEvent,
    });
    expect(log.keys()).toEqual(['demo/old.yaml']);
    const first = log.events[0]!;
    expect(ossEventSchema.parse(first)).toBeTruthy();
    expect(first.events[0]).toMatchObject({
      eventName: 'ObjectCreated:PutObject',
      region: 'cn-hangzhou',
      oss: { bucket: { name: 'bundles' }, object: { eTag: existing.etag, size: 3 } },
    });

    const created = await bucket.put('bundles', 'demo/new.yaml', bytes('v1'));
    expect((await log.next('demo/new.yaml')).events[0]!.oss.object.eTag).toBe(created.etag);
    const changed = await bucket.put('bundles', 'demo/new.yaml', bytes('v2'));
    await log.next('demo/new.yaml', changed.etag);
    await bucket.put('bundles', 'elsewhere/later.yaml', bytes('ignored'));
    await bucket.put('bundles', 'demo/barrier.yaml', bytes('b'));
    await log.next('demo/barrier.yaml');
    expect(log.keys()).toEqual(['demo/old.yaml', 'demo/new.yaml', 'demo/new.yaml', 'demo/barrier.yaml']);
  });

  it('fires once per content: rewriting the same bytes or touching the file fires nothing', async () => {
    const dir = freshRoot();
    const bucket = new FolderBucket(dir);
    const log = eventLog();
    // The hand-written rewrite below truncates then writes: the quiet period must outlast that gap on a loaded machine.
    watcher = await watchFolderBucket(bucket, { bucket: 'bundles', debounceMs: 400, onEvent: log.onEvent });
    await bucket.put('bundles', 'app.yaml', bytes('same'));
    await log.next('app.yaml');
    await bucket.put('bundles', 'app.yaml', bytes('same'));
    await writeFile(join(dir, 'bundles', 'app.yaml'), 'same');
    await bucket.put('bundles', 'barrier.yaml', bytes('b'));
    await log.next('barrier.yaml');
    expect(log.keys()).toEqual(['app.yaml', 'barrier.yaml']);
  });

  it('waits for a file written by hand in pieces and reports only its final content', async () => {
    const dir = freshRoot();
    const bucket = new FolderBucket(dir);
    const log = eventLog();
    watcher = await watchFolderBucket(bucket, { bucket: 'bundles', debounceMs: 400, onEvent: log.onEvent });
    const path = join(dir, 'bundles', 'hand.yaml');
    await writeFile(path, 'part one\n');
    for (let i = 0; i < 20; i++) await appendFile(path, `line ${i}\n`);
    const final = md5Hex(bytes(`part one\n${Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join('')}`));
    await log.next('hand.yaml', final);
    await bucket.put('bundles', 'barrier.yaml', bytes('b'));
    await log.next('barrier.yaml');
    expect(log.keys()).toEqual(['hand.yaml', 'barrier.yaml']);
  });

  it('finds files in a folder moved into the bucket whole, and reports a re-created object again', async () => {
    const dir = freshRoot();
    const bucket = new FolderBucket(dir);
    const log = eventLog();
    watcher = await watchFolderBucket(bucket, { bucket: 'bundles', debounceMs: 50, onEvent: log.onEvent });
    const staging = join(dir, 'staging-outside');
    await mkdir(join(staging, 'team'), { recursive: true });
    await writeFile(join(staging, 'team', 'a.yaml'), 'a');
    await rename(staging, join(dir, 'bundles', 'moved'));
    await log.next('moved/team/a.yaml');
    await rm(join(dir, 'bundles', 'moved', 'team', 'a.yaml'));
    await bucket.put('bundles', 'barrier-1.yaml', bytes('b'));
    await log.next('barrier-1.yaml');
    const before = log.events.length;
    await bucket.put('bundles', 'moved/team/a.yaml', bytes('a'));
    await log.next('moved/team/a.yaml', md5Hex(bytes('a')), before);
    expect(log.keys()).toEqual(['moved/team/a.yaml', 'barrier-1.yaml', 'moved/team/a.yaml']);
  });
});
