/**
 * Test helpers for the model and renderer: bundles built in memory (as .tar.gz, through the real
 * loader), the example bundle's files, and a small base bundle that cases change one piece of.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBundle, loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseBundle, type AppBundle } from '#shared/delivery/model/bundle.ts';
import type { DeployStep, Plan } from '#shared/delivery/model/plan.ts';
import { render } from '#shared/delivery/render/render.ts';
import { tarGzBytes } from '../bundle/archives.ts';

export const EXAMPLE = new URL('../../examples/web-demo/', import.meta.url).pathname;

export async function exampleFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(EXAMPLE)).sort()) {
    if (name.endsWith('.yaml')) files[name] = await readFile(join(EXAMPLE, name), 'utf8');
  }
  return files;
}

export async function bundleOf(files: Record<string, string>): Promise<AppBundle> {
  return parseBundle(await loadBundleBytes('bundle.tar.gz', tarGzBytes(files)));
}

/** Loads, parses and renders with the registry inside the bundle. */
export async function planOf(files: Record<string, string>): Promise<Plan> {
  const bundle = await bundleOf(files);
  if (!bundle.registry) throw new Error('test bundle without clusters.yaml');
  return render(bundle, bundle.registry.registry);
}

export async function examplePlan(): Promise<Plan> {
  const bundle = parseBundle(await loadBundle(EXAMPLE));
  if (!bundle.registry) throw new Error('example without clusters.yaml');
  return render(bundle, bundle.registry.registry);
}

export function deploySteps(plan: Plan): DeployStep[] {
  return plan.steps.filter((s): s is DeployStep => s.type === 'deploy');
}

export const CLUSTERS_YAML = `clusters:
  - name: bj1
    aliases: [c1]
    labels: {city: beijing, tier: gold}
  - name: bj2
    aliases: [c2]
    labels: {city: beijing}
  - name: hz1
    aliases: [c3]
    labels: {city: hangzhou, tier: silver}
`;

export const OBJECTS_YAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1
          env:
            - {name: A, value: "1"}
            - {name: B, value: "2"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web
  labels: {app: web}
data:
  k: v
`;

export const APP_YAML = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: shop
  namespace: prod
spec:
  components:
    - name: web
      type: ref-objects
      properties:
        objects:
          - {apiVersion: apps/v1, kind: Deployment, name: web}
    - name: config
      type: ref-objects
      properties:
        objects:
          - {apiVersion: v1, kind: ConfigMap, name: web}
---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: everywhere}
type: topology
properties:
  clusterLabelSelector: {}
`;

/** A small valid bundle: 2 objects, 2 components, one topology over every cluster, no workflow. */
export function baseFiles(overrides: Record<string, string> = {}): Record<string, string> {
  return { 'clusters.yaml': CLUSTERS_YAML, 'objects.yaml': OBJECTS_YAML, 'app.yaml': APP_YAML, ...overrides };
}

/** The base bundle plus extra documents appended to app.yaml (policies, a workflow...). */
export function baseWith(extraAppDocs: string, overrides: Record<string, string> = {}): Record<string, string> {
  return baseFiles({ 'app.yaml': `${APP_YAML}---\n${extraAppDocs}`, ...overrides });
}
