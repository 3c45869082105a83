import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * For a SQLite adapter's contract run: each call opens two connections on a new file in one
 * temporary folder (WAL), as two processes on the twin's state.db would be; every connection is
 * closed and the folder removed after the file's tests.
 */
export function twoConnectionsPerFile<T extends { close(): void }>(name: string, open: (path: string) => T): () => Promise<[T, T]> {
  const dir = mkdtempSync(join(tmpdir(), `tricenter-${name}-`));
  const opened: T[] = [];
  afterAll(() => {
    for (const connection of opened) connection.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let count = 0;
  return async () => {
    const path = join(dir, `${name}-${++count}.db`);
    const pair: [T, T] = [open(path), open(path)];
    opened.push(...pair);
    return pair;
  };
}
