/**
 * Bundle loading speed: the example bundle as a folder, a .tar.gz and a .zip (warm, median of
 * RUNS loads each), a generated .tar.gz of 2,000 documents, how long a 2 GiB tar/zip bomb takes to be refused, and the process's peak RSS
 * (which shows that the bombs were never held in memory). Archives are built in a temp dir first.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundle, loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { tarGzBytes, tarGzOfFolder, zipBytes, zipOfFolder } from '../test/bundle/archives.ts';

const RUNS = 50;
const WARMUP = 5;
const EXAMPLE = fileURLToPath(new URL('../examples/web-demo/', import.meta.url));

const MiB = 1024 * 1024;

/** Loads a bomb (one 2 GiB YAML file of zeros, a few MiB compressed) and returns how long the refusal took. */
async function bombRefusalMs(name: string, data: Uint8Array): Promise<number> {
  const start = performance.now();
  const refused = await loadBundleBytes(name, data, { maxFileBytes: 4096 * MiB }).then(
    () => false,
    () => true,
  );
  if (!refused) throw new Error(`${name} was not refused`);
  return Number((performance.now() - start).toFixed(1));
}

/** 1,000 Deployments with a ConfigMap each, spread over 10 files: a large but honest bundle. */
function generatedBundle(): Uint8Array {
  const files: Record<string, string> = {};
  for (let file = 0; file < 10; file++) {
    const docs: string[] = [];
    for (let i = file * 100; i < (file + 1) * 100; i++) {
      docs.push(
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app-${i}, namespace: demo, labels: {app: app-${i}}}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: app-${i}}}\n  template:\n    metadata: {labels: {app: app-${i}}}\n    spec:\n      containers:\n      - name: main\n        image: registry.example.com/app:${i}\n        env: [{name: INDEX, value: "${i}"}]\n`,
      );
      docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-${i}, namespace: demo}\ndata:\n  config.json: '{"index": ${i}}'\n`);
    }
    files[`objects/part-${file}.yaml`] = docs.join('---\n');
  }
  return tarGzBytes(files);
}

async function medianMs(load: () => Promise<unknown>, runs = RUNS): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await load();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await load();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return Number((times[Math.floor(times.length / 2)] ?? Number.NaN).toFixed(3));
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'tricenter-bundle-bench-'));
  try {
    const tarGz = await tarGzOfFolder(EXAMPLE, join(dir, 'web-demo.tar.gz'));
    const zip = await zipOfFolder(EXAMPLE, join(dir, 'web-demo.zip'));
    const documents = (await loadBundle(EXAMPLE)).documents.length;
    const generated = generatedBundle();
    return {
      documents,
      runs: RUNS,
      folderMedianMs: await medianMs(() => loadBundle(EXAMPLE)),
      tarGzMedianMs: await medianMs(() => loadBundle(tarGz)),
      zipMedianMs: await medianMs(() => loadBundle(zip)),
      generated2000DocumentsTarGzMedianMs: await medianMs(() => loadBundleBytes('generated.tgz', generated), 10),
      tarGzBombRefusalMs: await bombRefusalMs('bomb.tgz', tarGzBytes({}, [{ kind: 'zeros', path: 'bomb.yaml', size: 2048 * MiB }])),
      zipBombRefusalMs: await bombRefusalMs('bomb.zip', zipBytes({}, [{ kind: 'zeros', path: 'bomb.yaml', size: 2048 * MiB }])),
      peakRssMiB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
      // The machine is shared: timings taken under a high load average are inflated accordingly.
      loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(1)),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
