import { readdirSync } from 'node:fs';
import { create } from 'tar';

/** Packs a folder as .tar.gz without validating it (as any OSS client could upload it). */
export async function packTarGz(dir: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of create({ gzip: true, cwd: dir, portable: true }, readdirSync(dir))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
