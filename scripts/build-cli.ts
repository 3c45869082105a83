/**
 * `npm run build:cli`, and the `prepare` step of `npm install` / `npm ci`: the CLI as plain ESM in
 * dist/cli, so that `tricenter` starts without compiling TypeScript (bin/tricenter.mjs falls back to
 * tsx whenever this build is missing or stale).
 *
 * The project's own code is bundled, and with it the pure-JavaScript packages every bundle command
 * parses with (zod, yaml, fast-json-patch): node would otherwise resolve and load some 180 files of
 * theirs at each `tricenter render`. Every other package stays in node_modules (better-sqlite3 is
 * native, the cloud SDKs do not bundle cleanly, and node loads them only when a command needs them).
 * Code splitting turns each dynamic import of a command into a chunk of its own, so `--help` reads
 * main.mjs alone. build.json records the size, mtime and sha256 of every input as esbuild read it,
 * and of the bundled packages' package.json (their version) (bin/compiled-cli.mjs compares them
 * with the files at each start).
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Metafile, Plugin } from 'esbuild';
import { BUILD_MANIFEST, sha256 } from '../bin/compiled-cli.mjs';
import { NODE_ESM_SPLIT } from './esbuild-node.ts';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRY = 'main.mjs';
// Read by esbuild besides the sources (subpath imports, compiler options) or deciding how they are built.
const SETTINGS = ['package.json', 'tsconfig.json', 'scripts/build-cli.ts', 'scripts/esbuild-node.ts'];
/** Packages bundled into the CLI (see above); the rest are external. */
export const BUNDLED_PACKAGES = ['zod', 'yaml', 'fast-json-patch'];
// yaml's Node build is CommonJS, which a split ES build hands to `import()` as a default export
// only; its ES module build (the same code, warning through console.warn) bundles as it is.
const ALIASES = { yaml: './node_modules/yaml/browser/index.js' };
const EARLIER_BUILDS_KEPT_MS = 24 * 60 * 60 * 1000;

interface InputFingerprint {
  size: number;
  mtimeMs: number;
  sha256: string;
}

function fingerprint(file: string, bytes = readFileSync(file), stat = statSync(file)): InputFingerprint {
  return { size: stat.size, mtimeMs: stat.mtimeMs, sha256: sha256(bytes) };
}

/** Loads each project source itself, so the fingerprint is of exactly the bytes that were bundled. */
function fingerprintSources(inputs: Map<string, InputFingerprint>): Plugin {
  return {
    name: 'fingerprint-sources',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        // Stat before reading: an edit in between leaves a newer mtime, which only costs a hash at start.
        const stat = statSync(args.path);
        const bytes = readFileSync(args.path);
        inputs.set(relative(ROOT, args.path), fingerprint(args.path, bytes, stat));
        return { contents: bytes, loader: 'ts' };
      });
    },
  };
}

/** Writes a file under a temporary name and renames it, so a CLI starting meanwhile never reads half of it. */
function writeAtomically(file: string, contents: Uint8Array | string): void {
  const partial = join(dirname(file), `.${basename(file)}.${process.pid}`);
  writeFileSync(partial, contents);
  renameSync(partial, file);
}

export async function buildCli(outDir = join(ROOT, 'dist/cli')): Promise<{ files: number; inputs: number; metafile: Metafile }> {
  const { build } = await import('esbuild');
  const inputs = new Map<string, InputFingerprint>();
  for (const setting of SETTINGS) inputs.set(setting, fingerprint(join(ROOT, setting)));
  for (const name of BUNDLED_PACKAGES) {
    const manifest = `node_modules/${name}/package.json`;
    inputs.set(manifest, fingerprint(join(ROOT, manifest)));
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const dependencies = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { main: 'cli/main.ts' },
    outdir: outDir,
    ...NODE_ESM_SPLIT,
    external: dependencies.filter((name) => !BUNDLED_PACKAGES.includes(name)).flatMap((name) => [name, `${name}/*`]),
    alias: ALIASES,
    sourcemap: 'linked',
    write: false,
    metafile: true,
    plugins: [fingerprintSources(inputs)],
    logLevel: 'warning',
  });
  mkdirSync(outDir, { recursive: true });
  // Chunks are named by content and earlier builds' chunks stay for a day: a long-running
  // `local up` started from an earlier build may still import one. The entry goes last, then the
  // manifest that makes the build current.
  const entry = join(outDir, ENTRY);
  const files = result.outputFiles.sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
  for (const file of files) writeAtomically(file.path, file.contents);
  writeAtomically(
    join(outDir, BUILD_MANIFEST),
    `${JSON.stringify({ entry: ENTRY, inputs: Object.fromEntries([...inputs].sort()) }, null, 1)}\n`,
  );
  const current = new Set([BUILD_MANIFEST, ...files.map((file) => basename(file.path))]);
  for (const name of readdirSync(outDir)) {
    const file = join(outDir, name);
    if (!current.has(name) && statSync(file).mtimeMs < Date.now() - EARLIER_BUILDS_KEPT_MS) rmSync(file, { force: true });
  }
  return { files: files.length, inputs: inputs.size, metafile: result.metafile };
}

async function esbuildInstalled(): Promise<boolean> {
  try {
    await import('esbuild');
    return true;
  } catch {
    return false;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, 'scripts/build-cli.ts')) {
  // `npm install --omit=dev` has no esbuild: the CLI then runs from its sources through tsx.
  if (!(await esbuildInstalled()))
    console.log('build-cli: esbuild is not installed (devDependencies omitted); tricenter runs from its TypeScript sources');
  else {
    const outDir = resolve(process.argv[2] ?? join(ROOT, 'dist/cli'));
    const { files, inputs } = await buildCli(outDir);
    console.log(`build-cli: ${relative(process.cwd(), outDir)}, ${files} files from ${inputs} inputs`);
  }
}
