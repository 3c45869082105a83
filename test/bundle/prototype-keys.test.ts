/**
 * `__proto__` cannot be carried as data by JavaScript objects (zod's records, spreads and merges
 * assign it and it becomes a prototype), so a bundle holding it is refused with file, document and
 * field named; `constructor` and `prototype` are ordinary keys and reach the rendered manifests.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadBundle, loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { BundleError } from '#shared/platform/errors.ts';
import { parseBundle } from '#shared/delivery/model/bundle.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { render } from '#shared/delivery/render/render.ts';
import { variantOfWebDemo } from '../e2e/bundles.ts';

const DEPLOYMENT_LABELS = 'metadata:\n  labels:\n    app: web-demo\n  name: web-demo\n';
const withDeploymentLabels = (extra: string) => (text: string) =>
  text.replace(DEPLOYMENT_LABELS, `metadata:\n  labels:\n    app: web-demo\n${extra}  name: web-demo\n`);

async function refusal(promise: Promise<unknown>): Promise<BundleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

describe('__proto__ keys in a bundle', () => {
  it.each([
    ['a label', 'kind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    __proto__: evil\n', 'metadata.labels.__proto__', 5],
    [
      'a quoted annotation holding a map',
      'kind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    "__proto__": {admin: "true"}\n',
      'metadata.annotations.__proto__',
      5,
    ],
    [
      'a key inside a list item',
      'kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          __proto__: {privileged: true}\n',
      'spec.template.spec.containers[0].__proto__',
      7,
    ],
    ['a ConfigMap data key', 'kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  { __proto__: "x" }\n', 'data.__proto__', 5],
  ])('refuses %s, naming file, document, field, line and column', async (_label, text, field, line) => {
    const err = await refusal(loadBundleBytes('app.yaml', Buffer.from(`kind: First\n---\n${text}`)));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.location).toEqual({ file: 'app.yaml', document: 1, field });
    expect(err.message).toContain(`app.yaml (document 2) field ${field}: the key "__proto__" at line ${line + 2}, column`);
    expect(err.message).toMatch(/is not accepted: it cannot be kept as data/);
  });

  it("refuses it in a bundle folder, so the ingest (and upload's local check) never drops it silently", async () => {
    const dir = variantOfWebDemo({ 'app-meta.yaml': withDeploymentLabels('    __proto__: evil\n') });
    const err = await refusal(loadBundle(dir));
    expect(err.message).toMatch(/^app-meta\.yaml \(document 1\) field metadata\.labels\.__proto__: /);
  });

  it('keeps constructor and prototype labels and annotations faithfully, through parsing and rendering', async () => {
    const dir = variantOfWebDemo({
      'app-meta.yaml': withDeploymentLabels('    constructor: c1\n    prototype: p1\n  annotations:\n    constructor: a1\n'),
    });
    const bundle = parseBundle(await loadBundle(dir));
    const registry = parseClusterRegistry(await loadBundleBytes('clusters.yaml', readFileSync('examples/web-demo/clusters.yaml')));
    const plan = render(bundle, registry);
    const deployments = plan.steps
      .flatMap((step) => (step.type === 'deploy' ? step.targets.flatMap((target) => target.manifests) : []))
      .filter((m) => m.kind === 'Deployment');
    expect(deployments).toHaveLength(3);
    for (const deployment of deployments) {
      expect(Object.getOwnPropertyNames(deployment.metadata.labels)).toEqual(expect.arrayContaining(['constructor', 'prototype']));
      expect(deployment.metadata.labels).toMatchObject({ constructor: 'c1', prototype: 'p1' });
      expect(deployment.metadata.annotations?.constructor).toBe('a1');
    }
  });
});
