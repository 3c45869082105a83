#!/usr/bin/env node
// Runs one TypeScript entry point (bench, build, invoke scripts) through tsx: `node bin/run-ts.mjs file.ts args...`.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

const [, , entry, ...rest] = process.argv;
if (!entry) {
  console.error('usage: run-ts.mjs <file.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(entry), ...rest];
register();
await import(pathToFileURL(resolve(entry)).href);
