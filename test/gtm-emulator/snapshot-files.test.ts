import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CloudGtmSnapshot, readCloudGtmState, writeCloudGtmState } from '#sandbox/gtm/cloudgtm/persistence.ts';
import { type GtmSnapshot, GtmStateError, readGtmState, writeGtmState } from '#sandbox/gtm/persistence.ts';

/**
 * The snapshot file of each GTM generation, read and written through the one shared reader: the
 * same refusals, each naming the file, with the other generation's file sent to its --gtm-version.
 */
const EMPTY_2: GtmSnapshot = {
  format: 1,
  instanceId: 'gtm-cn-2',
  createdAt: 0,
  config: { ttl: 60, cnameType: 'PUBLIC', alertConfig: [] } as unknown as GtmSnapshot['config'],
  pools: [],
  monitors: [],
  strategies: [],
  health: [],
};
const EMPTY_3: CloudGtmSnapshot = {
  format: 'cloudgtm/1',
  instanceId: 'gtm-cn-3',
  createdAt: 0,
  templates: [],
  addresses: [],
  pools: [],
  configs: [],
  health: [],
  sticky: [],
};

const generations = [
  {
    version: '2.0',
    empty: EMPTY_2 as unknown,
    read: readGtmState,
    write: (path: string, s: unknown) => writeGtmState(path, s as GtmSnapshot),
    other: EMPTY_3 as unknown,
    otherRefusal: /holds a GTM 3\.0 instance: start it with --gtm-version 3\.0 to resume it$/,
    formatRefusal: /has format 7; this tricenter reads format 1$/,
    damaged: { ...EMPTY_2, pools: [{ addresses: [] }] },
    damagedAt: /is damaged: pools\.0\.id: /,
  },
  {
    version: '3.0',
    empty: EMPTY_3 as unknown,
    read: readCloudGtmState,
    write: (path: string, s: unknown) => writeCloudGtmState(path, s as CloudGtmSnapshot),
    other: EMPTY_2 as unknown,
    otherRefusal: /holds a GTM 2\.0 instance: start it with --gtm-version 2\.0 to resume it$/,
    formatRefusal: /has format 7; this tricenter reads "cloudgtm\/1" for GTM 3\.0$/,
    damaged: { ...EMPTY_3, sticky: [['owner']] },
    damagedAt: /is damaged: sticky\.0: /,
  },
];

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tricenter-gtm-snapshot-'));
  file = join(dir, 'gtm-state.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (read: () => unknown): GtmStateError => {
  try {
    read();
  } catch (err) {
    expect(err).toBeInstanceOf(GtmStateError);
    expect((err as GtmStateError).path).toBe(file);
    expect((err as Error).message).toContain(`GTM emulator state file ${file} `);
    return err as GtmStateError;
  }
  throw new Error('the read was not refused');
};

describe.each(generations)('GTM $version snapshot file', (g) => {
  it('is written atomically and read back as written', () => {
    g.write(file, g.empty);
    expect(g.read(file)).toEqual(g.empty);
    expect(readdirSync(dir)).toEqual(['gtm-state.json']);
  });

  it('is absent on a first start, and refused when the state folder says it was saved', () => {
    expect(g.read(file)).toBeUndefined();
    expect(refusal(() => g.read(file, { mustExist: true })).message).toMatch(/is missing, but the state folder says GTM was saved there$/);
  });

  it("refuses the other generation's file, another format, a truncated file and a damaged envelope, and leaves each as it was", () => {
    const cases: Array<[string, RegExp]> = [
      [JSON.stringify(g.other), g.otherRefusal],
      [JSON.stringify({ ...(g.empty as object), format: 7 }), g.formatRefusal],
      [JSON.stringify(g.empty).slice(0, 20), /is not valid JSON \(.*\): it is truncated or damaged$/],
      [JSON.stringify(g.damaged), g.damagedAt],
      ['"just a string"', /has format undefined; this tricenter reads /],
    ];
    for (const [content, message] of cases) {
      writeFileSync(file, content);
      expect(refusal(() => g.read(file)).message).toMatch(message);
      expect(readFileSync(file, 'utf8')).toBe(content);
    }
  });

  it('a write that fails keeps the previous snapshot and leaves no temporary file', () => {
    g.write(file, g.empty);
    const before = readFileSync(file, 'utf8');
    expect(() => g.write(file, { ...(g.empty as object), createdAt: 1n })).toThrow(/BigInt/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['gtm-state.json']);
  });
});
