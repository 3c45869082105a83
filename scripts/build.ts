/**
 * `npm run build`: one esbuild bundle per function in dist/<function>/ (node20, ESM, source maps),
 * every dependency inside, so each folder runs with no node_modules. s.yaml's pre-deploy action
 * runs this. The Kubernetes client is split into a chunk loaded on first use (see functions/cloud.ts),
 * so functions that seldom talk to clusters do not pay for it at cold start.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { tablestoreStrictModePlugin } from '#shared/delivery/adapters/aliyun/tablestore-bundling.ts';
import { NODE_ESM_SPLIT } from './esbuild-node.ts';

export const FUNCTIONS = ['approval', 'bundle-ingest', 'deploy-step', 'gtm-reconcile'] as const;

// CommonJS dependencies (tablestore, pop-core) call require() for Node built-ins; in an ESM
// bundle that needs a real require.
const BANNER =
  "import { createRequire as __tricenterCreateRequire } from 'node:module'; const require = __tricenterCreateRequire(import.meta.url);";

/**
 * node-fetch 2 (under @kubernetes/client-node) requires `whatwg-url` but uses it only where Node has
 * no `URL` (`Url.URL || whatwgUrl.URL`); loading it parsed tr46's 260 KB mapping table on every
 * first cluster call. In the bundle it is Node's own URL.
 */
function nodeUrlForWhatwgUrl(): Plugin {
  return {
    name: 'node-url-for-whatwg-url',
    setup(build) {
      build.onResolve({ filter: /^whatwg-url$/ }, () => ({ path: 'whatwg-url', namespace: 'node-url' }));
      build.onLoad({ filter: /.*/, namespace: 'node-url' }, () => ({
        contents: 'module.exports = { URL: globalThis.URL, URLSearchParams: globalThis.URLSearchParams };',
        loader: 'js',
      }));
    },
  };
}

/**
 * @kubernetes/client-node is ESM whose index re-exports every module (exec, attach, cp, watch,
 * port-forward, metrics...) and declares no `sideEffects`, so a bundle kept them all, with ws,
 * tar-fs and streamx, though the gateway imports a handful of names. Its modules have no
 * side-effect imports (none is imported for its effect alone), so marking them side-effect free
 * lets esbuild drop the modules nothing imports: a fifth less code to load on the first cluster call.
 */
function kubeClientWithoutSideEffects(): Plugin {
  const RESOLVING = Symbol('kube-client-resolving');
  return {
    name: 'kube-client-without-side-effects',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === RESOLVING) return undefined;
        if (!args.path.startsWith('@kubernetes/client-node') && !/[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/.test(args.importer))
          return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: RESOLVING,
        });
        if (resolved.errors.length > 0 || !/[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/.test(resolved.path)) return resolved;
        return { ...resolved, sideEffects: false };
      });
    },
  };
}

export async function buildFunctions(outDir = 'dist'): Promise<Array<{ name: string; bytes: number; files: number }>> {
  const root = resolve(outDir);
  const results = [];
  for (const name of FUNCTIONS) {
    const dir = join(root, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build({
      entryPoints: { index: `functions/${name}/index.ts` },
      outdir: dir,
      ...NODE_ESM_SPLIT,
      sourcemap: true,
      minify: true,
      legalComments: 'linked',
      banner: { js: BANNER },
      // The tablestore SDK assigns to undeclared variables, which strict-mode ESM refuses.
      plugins: [tablestoreStrictModePlugin(), nodeUrlForWhatwgUrl(), kubeClientWithoutSideEffects()],
      logLevel: 'warning',
    });
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ type: 'module', private: true }, null, 2)}\n`);
    const files = readdirSync(dir);
    const bytes = files.filter((f) => !f.endsWith('.map')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    results.push({ name, bytes, files: files.length });
  }
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve('scripts/build.ts')) {
  const results = await buildFunctions(process.argv[2] ?? 'dist');
  for (const r of results) console.log(`dist/${r.name}: ${(r.bytes / 1024).toFixed(0)} KiB in ${r.files} files`);
}
