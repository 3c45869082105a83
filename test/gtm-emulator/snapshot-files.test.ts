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

interface Generation {
  version: string;
  empty: unknown;
  read: (path: string, options?: { mustExist?: boolean }) => unknown;
  /** A method, so that each generation's typed writer fits (the tests hand it what they mean to). */
  write(path: string, snapshot: unknown): void;
  /** What "this tricenter reads ..." says of the generation's format. */
  reads: string;
  /** A snapshot whose envelope is wrong, and where the refusal says it is. */
  damaged: [unknown, string];
}

const V2: Generation = {
  version: '2.0',
  empty: EMPTY_2,
  read: readGtmState,
  write: writeGtmState,
  reads: 'format 1',
  damaged: [{ ...EMPTY_2, pools: [{ addresses: [] }] }, 'pools.0.id'],
};
const V3: Generation = {
  version: '3.0',
  empty: EMPTY_3,
  read: readCloudGtmState,
  write: writeCloudGtmState,
  reads: '"cloudgtm/1" for GTM 3.0',
  damaged: [{ ...EMPTY_3, sticky: [['owner']] }, 'sticky.0'],
};
const generations = [
  { ...V2, other: V3 },
  { ...V3, other: V2 },
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
    const cases: Array<[string, string | RegExp]> = [
      [
        JSON.stringify(g.other.empty),
        `holds a GTM ${g.other.version} instance: start it with --gtm-version ${g.other.version} to resume it`,
      ],
      [JSON.stringify({ ...(g.empty as object), format: 7 }), `has format 7; this tricenter reads ${g.reads}`],
      [JSON.stringify(g.empty).slice(0, 20), /is not valid JSON \(.*\): it is truncated or damaged$/],
      [JSON.stringify(g.damaged[0]), `is damaged: ${g.damaged[1]}: `],
      ['"just a string"', `has format undefined; this tricenter reads ${g.reads}`],
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
