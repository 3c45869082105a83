/**
 * `npm run bench [-- name...]`: runs every `bench/*.bench.ts` (or the named ones) one after the
 * other and prints one JSON object `{ "<name>": { ...figures } }`. Each bench module exports
 * `run(): Promise<Record<string, unknown>>`. Goals are reported beside the figures, never asserted
 * in unit tests.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface BenchModule {
  run(): Promise<Record<string, unknown>>;
}

const here = dirname(fileURLToPath(import.meta.url));
const wanted = new Set(process.argv.slice(2));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.size === 0 || wanted.has(f.replace(/\.bench\.ts$/, '')))
  .sort();

const results: Record<string, unknown> = {};
for (const file of files) {
  const name = file.replace(/\.bench\.ts$/, '');
  const mod = (await import(pathToFileURL(join(here, file)).href)) as BenchModule;
  try {
    results[name] = await mod.run();
  } catch (err) {
    results[name] = { error: err instanceof Error ? err.message : String(err) };
    process.exitCode = 1;
  }
  process.stderr.write(`bench ${name} done\n`);
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
