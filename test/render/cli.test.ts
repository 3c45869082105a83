import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EXAMPLE, baseFiles, baseWith } from './helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/tricenter.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, TRICENTER_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let temp: string;
async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(temp, name);
  await mkdir(dir);
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  return dir;
}

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'tricenter-cli-'));
});
afterAll(async () => rm(temp, { recursive: true, force: true }));

describe('tricenter render / plan', () => {
  it('render -o json maps each cluster to its manifests', async () => {
    const { code, stdout, stderr } = await cli(['render', EXAMPLE, '-o', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const byCluster = JSON.parse(stdout) as Record<string, Array<{ kind: string; spec?: { replicas?: number } }>>;
    expect(Object.keys(byCluster)).toEqual(['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou']);
    expect(Object.values(byCluster).map((list) => list.find((m) => m.kind === 'Deployment')?.spec?.replicas)).toEqual([5, 5, 1]);
  });

  it('render (yaml) for one cluster by alias, with --clusters, prints a comment and multi-doc YAML', async () => {
    const { code, stdout } = await cli(['render', EXAMPLE, '--clusters', join(EXAMPLE, 'clusters.yaml'), '--cluster', 'managedcluster-c3']);
    expect(code).toBe(0);
    expect(stdout.startsWith('# cluster: cluster1-hangzhou\n')).toBe(true);
    const docs = parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'ConfigMap', 'Service', 'Ingress']);
  });

  it('plan prints the steps as a table', async () => {
    const { code, stdout } = await cli(['plan', EXAMPLE]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/publishVersion version8/);
    expect(stdout).toMatch(/2\. deploy-cluster2-beijing\s+deploy\s+required\s+5\s+10m\s+cluster2-beijing\s+4/);
  });

  it('fails with one line naming file, document and field for a step naming a missing policy', async () => {
    const dir = await folder(
      'missing-policy',
      baseWith(
        `apiVersion: core.oam.dev/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nsteps:\n  - {name: go, type: deploy, properties: {policies: [gone]}}\n`,
      ),
    );
    const { code, stdout, stderr } = await cli(['render', dir]);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      'app.yaml (document 3, Workflow wf) field steps[0].properties.policies[0]: policy "gone" is not in the bundle (policies: everywhere)',
    ]);
  });

  it('refuses what ingest refuses: a bad name always, tenancy with --clusters and --tenant', async () => {
    const files = baseFiles();
    files['objects.yaml'] = (files['objects.yaml'] ?? '').replace(
      '  name: web\n  labels: {app: web}\ndata',
      '  name: web\n  labels: {"bad key": web}\ndata',
    );
    const named = await cli(['plan', await folder('bad-label', files)]);
    expect(named.code).not.toBe(0);
    expect(named.stderr.trim()).toMatch(
      /^objects\.yaml \(document 2, ConfigMap web\) field metadata\.labels\["bad key"\]: label key "bad key" of ConfigMap prod\/web must be a qualified name/,
    );

    const tenancy = await cli(['plan', EXAMPLE, '--clusters', join(EXAMPLE, 'clusters.yaml'), '--tenant', 'rt']);
    expect(tenancy.code).not.toBe(0);
    expect(tenancy.stdout).toBe('');
    expect(tenancy.stderr.trim().split('\n')).toHaveLength(1);
    expect(tenancy.stderr).toMatch(
      /^app-meta\.yaml \(document 1, Deployment demo\/web-demo\) field metadata\.namespace: Deployment demo\/web-demo: tenant "rt" may not deploy into namespace "demo"/,
    );
  });

  it('fails clearly when there is no registry in the bundle and no --clusters', async () => {
    const files = baseFiles();
    delete files['clusters.yaml'];
    const dir = await folder('no-registry', files);
    const { code, stderr } = await cli(['plan', dir, '-o', 'json']);
    expect(code).not.toBe(0);
    expect(stderr).toContain(`${dir}: holds no cluster registry`);
    expect(stderr).toContain('--clusters');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
