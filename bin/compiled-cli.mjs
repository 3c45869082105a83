// Decides whether the compiled CLI (dist/cli, written by scripts/build-cli.ts) may run: only when
// every source it was built from is what it was then. Plain JavaScript: it runs before tsx is loaded.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The file scripts/build-cli.ts writes beside the bundle: its entry and a fingerprint of each input. */
export const BUILD_MANIFEST = 'build.json';

export function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * `{ entry }` (a file URL to import) when the build in `buildDir` is current for the sources under
 * `root`, else `{ stale }` saying why. An input whose size and mtime are as recorded is unchanged
 * (one stat, as git's index does); any other is hashed, so a checkout or `touch` that leaves the
 * content alone keeps the build, while any edit, however its mtime was set, is caught.
 */
export function compiledCli(buildDir, root) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(buildDir, BUILD_MANIFEST), 'utf8'));
  } catch {
    return { stale: `no compiled CLI in ${buildDir}` };
  }
  for (const [path, recorded] of Object.entries(manifest.inputs)) {
    const file = join(root, path);
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return { stale: `${path} is gone` };
    }
    if (stat.size === recorded.size && stat.mtimeMs === recorded.mtimeMs) continue;
    if (sha256(readFileSync(file)) !== recorded.sha256) return { stale: `${path} changed since the build` };
  }
  return { entry: pathToFileURL(join(buildDir, manifest.entry)).href };
}
