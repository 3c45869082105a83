/**
 * `render`'s output, written as it is produced: a plan of 1,000 objects for 50 clusters prints
 * about 90 MB of JSON, which as one string would be built, escaped and copied whole before the
 * first byte goes out. Each manifest is serialised on its own (once, when clusters share it) and
 * written in chunks that wait for the stream to drain. The bytes are those of the whole-value
 * forms: `terminalSafeJson(Object.fromEntries(byCluster))` and YAML documents joined by `---`.
 */
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import { terminalSafeJson } from './terminal-text.ts';

/** Where the output goes: a Writable such as process.stdout. */
export interface OutputStream {
  write(chunk: string): boolean;
  once(event: 'drain' | 'error', listener: (err?: unknown) => void): unknown;
  removeListener(event: 'drain' | 'error', listener: (err?: unknown) => void): unknown;
}

const CHUNK_CHARS = 1 << 16;

/** Collects text and hands it to the stream in chunks, waiting whenever the stream asks to. */
class ChunkedWriter {
  private pieces: string[] = [];
  private size = 0;

  constructor(private readonly out: OutputStream) {}

  async add(text: string): Promise<void> {
    this.pieces.push(text);
    this.size += text.length;
    if (this.size >= CHUNK_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pieces.length === 0) return;
    const chunk = this.pieces.join('');
    this.pieces = [];
    this.size = 0;
    if (!this.out.write(chunk)) await drained(this.out);
  }
}

function drained(out: OutputStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.removeListener('error', onError);
      resolve();
    };
    const onError = (err?: unknown) => {
      out.removeListener('drain', onDrain);
      reject(err);
    };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/**
 * Each manifest's text, made once: a manifest several clusters get is kept until its last use,
 * any other is made when needed and dropped.
 */
class ManifestTexts {
  private readonly uses = new Map<KubeObject, number>();
  private readonly texts = new Map<KubeObject, string>();

  constructor(
    byCluster: Map<string, KubeObject[]>,
    private readonly make: (manifest: KubeObject) => string,
  ) {
    for (const manifests of byCluster.values()) for (const m of manifests) this.uses.set(m, (this.uses.get(m) ?? 0) + 1);
  }

  text(manifest: KubeObject): string {
    const left = this.uses.get(manifest) ?? 1;
    if (left <= 1) {
      this.uses.delete(manifest);
      const kept = this.texts.get(manifest);
      this.texts.delete(manifest);
      return kept ?? this.make(manifest);
    }
    this.uses.set(manifest, left - 1);
    let text = this.texts.get(manifest);
    if (text === undefined) {
      text = this.make(manifest);
      this.texts.set(manifest, text);
    }
    return text;
  }
}

const NESTED_START = '{\n  "m": [\n';
const NESTED_END = '\n  ]\n}';

/**
 * The manifest's pretty JSON as it appears two levels deep (in a cluster's list), every line
 * indented by 4 more: JSON.stringify writes it so inside a one-member object of a one-item list,
 * and the text is cut out of that, instead of re-indenting its lines afterwards (a copy of 120 MB).
 */
function nestedJson(manifest: KubeObject): string {
  const text = terminalSafeJson({ m: [manifest] });
  return text.slice(NESTED_START.length, text.length - NESTED_END.length);
}

/** `terminalSafeJson(Object.fromEntries(byCluster))` and a newline, streamed. */
export async function writeClustersJson(byCluster: Map<string, KubeObject[]>, out: OutputStream): Promise<void> {
  const writer = new ChunkedWriter(out);
  // Member order as Object.fromEntries gives it (a name that is an array index would come first).
  const names = Object.keys(Object.fromEntries([...byCluster.keys()].map((name) => [name, true])));
  // A manifest sits two levels deep (object, then list): JSON.stringify indents its lines by 4 more.
  const texts = new ManifestTexts(byCluster, nestedJson);
  if (names.length === 0) await writer.add('{}');
  for (const [n, name] of names.entries()) {
    const manifests = byCluster.get(name) ?? [];
    await writer.add(`${n === 0 ? '{\n' : ',\n'}  ${terminalSafeJson(name)}: ${manifests.length === 0 ? '[]' : '[\n'}`);
    for (const [i, manifest] of manifests.entries()) await writer.add(`${i === 0 ? '' : ',\n'}${texts.text(manifest)}`);
    if (manifests.length > 0) await writer.add('\n  ]');
  }
  if (names.length > 0) await writer.add('\n}');
  await writer.add('\n');
  await writer.flush();
}

/** Multi-document YAML; each cluster's first document opens with a `# cluster: NAME` comment. Streamed. */
export async function writeClustersYaml(
  byCluster: Map<string, KubeObject[]>,
  out: OutputStream,
  stringify: (manifest: KubeObject) => string,
): Promise<void> {
  const writer = new ChunkedWriter(out);
  const texts = new ManifestTexts(byCluster, stringify);
  let first = true;
  for (const [cluster, manifests] of byCluster) {
    for (const [i, manifest] of manifests.entries()) {
      await writer.add(`${first ? '' : '---\n'}${i === 0 ? `# cluster: ${cluster}\n` : ''}${texts.text(manifest)}`);
      first = false;
    }
  }
  await writer.flush();
}
