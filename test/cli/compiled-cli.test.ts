import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Metafile } from 'esbuild';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_MANIFEST, compiledCli, sha256 } from '../../bin/compiled-cli.mjs';
import { BUNDLED_PACKAGES, buildCli } from '../../scripts/build-cli.ts';

/**
 * The compiled CLI (scripts/build-cli.ts) and the guard that keeps a stale one from running
 * (bin/compiled-cli.mjs). The build goes to a folder of its own under dist/, where node finds the
 * packages it leaves external.
 */
const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

let out: string;
let metafile: Metafile;

/** Everything node loads to run `entry` before any dynamic import: chunks, project sources and packages. */
function staticClosure(entry: string): { sources: string[]; packages: string[] } {
  const sources = new Set<string>();
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    const file = metafile.outputs[output];
    if (!file) throw new Error(`no output ${output}`);
    for (const input of Object.keys(file.inputs)) sources.add(input);
    for (const imported of file.imports) {
      if (imported.kind !== 'import-statement') continue;
      if (imported.external) packages.add(imported.path);
      else visit(imported.path);
    }
  };
  visit(entry);
  return { sources: [...sources].sort(), packages: [...packages].sort() };
}

beforeAll(async () => {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  out = mkdtempSync(join(ROOT, 'dist', 'cli-test-'));
  ({ metafile } = await buildCli(out));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the compiled CLI', () => {
  it('runs: --help lists every command', async () => {
    const { stdout } = await run(process.execPath, [join(out, 'main.mjs'), '--help'], { cwd: ROOT });
    for (const command of ['render', 'plan', 'upload', 'status', 'approve', 'runs', 'traffic', 'drill', 'sandbox', 'local', 'setup'])
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('loads commands on demand: its entry pulls in no twin, sandbox, zod model, YAML or cloud SDK', () => {
    const { sources, packages } = staticClosure(`${relative(ROOT, out)}/main.mjs`);
    expect(sources.filter((s) => /^(local|sandbox|functions)\//.test(s))).toEqual([]);
    // Every package a command needs (zod, yaml, tar, the SDKs, better-sqlite3) comes with that command.
    expect(packages.filter((p) => !p.startsWith('node:'))).toEqual(['commander']);
  });

  it('records a fingerprint of every source it bundled, of the settings that shaped it and of each bundled package', () => {
    const { inputs } = JSON.parse(readFileSync(join(out, BUILD_MANIFEST), 'utf8')) as {
      inputs: Record<string, { size: number; mtimeMs: number; sha256: string }>;
    };
    const sources = Object.keys(metafile.inputs).filter((input) => !input.includes('node_modules/'));
    const packages = BUNDLED_PACKAGES.map((name) => `node_modules/${name}/package.json`);
    expect(Object.keys(inputs).sort()).toEqual(
      [...sources, ...packages, 'package.json', 'tsconfig.json', 'scripts/build-cli.ts', 'scripts/esbuild-node.ts'].sort(),
    );
    expect(inputs['cli/main.ts']).toEqual({
      size: expect.any(Number),
      mtimeMs: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('bundles only the pure-JavaScript packages bundles are parsed with, and keeps the others external, the native better-sqlite3 included', () => {
    const bundled = new Set(
      Object.keys(metafile.inputs)
        .filter((input) => input.includes('node_modules/'))
        // node_modules may be a link to another folder: the input is then a path out of the project.
        .map((input) => input.slice(input.lastIndexOf('node_modules/')).split('/')[1]),
    );
    expect([...bundled].sort()).toEqual([...BUNDLED_PACKAGES].sort());
    const imported = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    expect(imported).toContain('better-sqlite3');
    expect(imported.filter((path) => BUNDLED_PACKAGES.some((name) => path === name || path.startsWith(`${name}/`)))).toEqual([]);
  });
});

describe('the stale-build guard', () => {
  // A project of its own: the shared working tree's sources change under other sessions' hands.
  let root: string;
  let build: string;
  const writeSource = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const recordBuild = (paths: string[]) => {
    const inputs = Object.fromEntries(
      paths.map((path) => {
        const file = join(root, path);
        return [path, { size: statSync(file).size, mtimeMs: statSync(file).mtimeMs, sha256: sha256(readFileSync(file)) }];
      }),
    );
    writeFileSync(join(build, BUILD_MANIFEST), JSON.stringify({ entry: 'main.mjs', inputs }));
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'tricenter-stale-'));
    build = join(root, 'dist/cli');
    mkdirSync(build, { recursive: true });
    writeSource('cli/main.ts', 'export const version = 1;\n');
    writeSource('shared/platform/errors.ts', 'export class E extends Error {}\n');
    recordBuild(['cli/main.ts', 'shared/platform/errors.ts']);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('runs a build of the sources as they are', () => {
    expect(compiledCli(build, root)).toEqual({ entry: pathToFileURL(join(build, 'main.mjs')).href });
  });

  it('falls back when a source was edited after the build, whatever its mtime says', () => {
    writeSource('cli/main.ts', 'export const version = 2;\n');
    expect(compiledCli(build, root)).toEqual({ stale: 'cli/main.ts changed since the build' });
    // Same size, and the mtime put back to the build's: the content still tells.
    const { mtime } = statSync(join(root, 'shared/platform/errors.ts'));
    writeSource('shared/platform/errors.ts', 'export class F extends Error {}\n');
    utimesSync(join(root, 'shared/platform/errors.ts'), mtime, mtime);
    writeSource('cli/main.ts', 'export const version = 1;\n');
    expect(compiledCli(build, root)).toEqual({ stale: 'shared/platform/errors.ts changed since the build' });
  });

  it('keeps a build whose sources were only touched (same content, newer mtime), as a checkout does', () => {
    const later = new Date(statSync(join(root, 'cli/main.ts')).mtimeMs + 60_000);
    utimesSync(join(root, 'cli/main.ts'), later, later);
    expect(compiledCli(build, root)).toHaveProperty('entry');
  });

  it('falls back when a source is gone, or when there is no readable build', () => {
    rmSync(join(root, 'shared/platform/errors.ts'));
    expect(compiledCli(build, root)).toEqual({ stale: 'shared/platform/errors.ts is gone' });
    expect(compiledCli(join(root, 'nothing-here'), root)).toEqual({ stale: expect.stringContaining('no compiled CLI') });
    writeFileSync(join(build, BUILD_MANIFEST), '{ half a manif');
    expect(compiledCli(build, root)).toHaveProperty('stale');
  });
});
