/**
 * The esbuild options every build of this project shares (function bundles and the CLI): ESM for
 * Node 20, split into chunks loaded on demand, `.mjs` files. No imports, so a script may load
 * esbuild itself lazily.
 */
export const NODE_ESM_SPLIT = {
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
} as const;
