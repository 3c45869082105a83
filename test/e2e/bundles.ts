import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A copy of examples/web-demo with text edits applied per file: variants for lifecycle tests. */
export function variantOfWebDemo(edits: Record<string, (text: string) => string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tricenter-bundle-')), 'web-demo');
  cpSync('examples/web-demo', dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    const before = readFileSync(path, 'utf8');
    const after = edit(before);
    if (after === before) throw new Error(`edit of ${file} changed nothing: the test's assumption about the example is stale`);
    writeFileSync(path, after);
  }
  return dir;
}

export const bumpVersion = (version: string) => (text: string) =>
  text.replace('app.oam.dev/publishVersion: version8', `app.oam.dev/publishVersion: ${version}`);
