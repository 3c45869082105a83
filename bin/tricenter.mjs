#!/usr/bin/env node
// Runs the compiled CLI (dist/cli, built by `npm install`'s prepare step) when it was built from the
// sources as they are now; otherwise the TypeScript sources through tsx, so an edit under cli/ or
// shared/ is never hidden behind an old build (`npm run build:cli` brings the fast start back).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledCli } from './compiled-cli.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const build = compiledCli(join(root, 'dist/cli'), root);
if ('entry' in build) {
  await import(build.entry);
} else {
  if (process.env.TRICENTER_DEBUG === '1') console.error(`tricenter: running from the sources (${build.stale})`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
