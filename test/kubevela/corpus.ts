/**
 * The KubeVela conformance corpus: each case in `cases/*.yaml` is an Application (plus its
 * policies and workflow) taken from KubeVela's own repository, what KubeVela makes of it, and what
 * tricenter must therefore render per cluster (or the one line it refuses it with).
 *
 * A case file:
 *
 *   source: docs/examples/app-with-volumes/app.yaml   # path in kubevela/kubevela the case is written from
 *   kubevela: what KubeVela produces from it, in a sentence (or why tricenter differs)
 *   hub: true                 # optional: the file has no topology policy; KubeVela deploys to its hub ("local"),
 *                             # tricenter refuses that (see README), so the runner adds a topology to `local`
 *   clusters: |               # optional: the registry (default: DEFAULT_CLUSTERS below)
 *   files:                    # the bundle, file name -> text; KubeVela's YAML unchanged
 *     app.yaml: |
 *       apiVersion: core.oam.dev/v1beta1 ...
 *   expect:                   # exactly one of:
 *     clusters:               # cluster -> the objects it ends up with (`tricenter render`), in order,
 *       local: [...]          #   compared without tricenter's own stamps (see normalize())
 *     steps:                  # and/or the plan: step name, type, the clusters of a deploy step
 *       - {name: deploy-x, type: deploy, clusters: [local]}
 *     error:                  # the refusal: a piece of the message, and where it points
 *       message: unknown trait type "nocalhost"
 *       file: app.yaml
 *       field: spec.components[0].traits[0].type
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import {
  LABEL_MANAGED_BY,
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_PUBLISH_VERSION,
  ANNOTATION_RESOURCE_POLICY,
} from '#shared/delivery/model/ownership.ts';

const CASES_DIR = new URL('./cases/', import.meta.url).pathname;

/** The registry a case gets unless it brings its own: KubeVela's hub (`local`) and two managed clusters. */
const DEFAULT_CLUSTERS = `clusters:
  - name: local
    labels: {region: hangzhou}
  - name: cluster-beijing
    labels: {region: beijing, env: prod}
  - name: cluster-hangzhou
    labels: {region: hangzhou, env: prod}
`;

/** What KubeVela does without a topology policy (deploy to the hub), said explicitly for tricenter. */
const HUB_TOPOLOGY = `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: kubevela-hub}
type: topology
properties: {clusters: [local]}
`;

const objectList = z.array(z.record(z.string(), z.unknown()));

const caseSchema = z.strictObject({
  source: z.string().min(1),
  kubevela: z.string().min(1),
  hub: z.boolean().default(false),
  clusters: z.string().optional(),
  files: z.record(z.string(), z.string()),
  expect: z
    .strictObject({
      clusters: z.record(z.string(), objectList).optional(),
      steps: z
        .array(
          z.strictObject({
            name: z.string(),
            type: z.enum(['deploy', 'suspend']),
            clusters: z.array(z.string()).optional(),
            needsApproval: z.boolean().optional(),
          }),
        )
        .optional(),
      error: z.strictObject({ message: z.string().min(1), file: z.string().optional(), field: z.string().optional() }).optional(),
    })
    .refine(
      (e) => (e.error === undefined) !== (e.clusters === undefined && e.steps === undefined),
      'expect either error, or clusters and/or steps',
    ),
});
export type ConformanceCase = z.infer<typeof caseSchema> & { file: string };
export type ExpectedStep = NonNullable<ConformanceCase['expect']['steps']>[number];

export async function loadCases(): Promise<ConformanceCase[]> {
  const names = (await readdir(CASES_DIR)).filter((n) => n.endsWith('.yaml')).sort();
  return Promise.all(
    names.map(async (file) => {
      const parsed = caseSchema.safeParse(parse(await readFile(join(CASES_DIR, file), 'utf8')));
      if (!parsed.success) throw new Error(`test/kubevela/cases/${file}: ${parsed.error.message}`);
      return { ...parsed.data, file };
    }),
  );
}

/** The bundle of a case: its files, the registry, and the hub topology when the case asks for it. */
export function bundleFiles(c: ConformanceCase): Record<string, string> {
  return {
    'clusters.yaml': c.clusters ?? DEFAULT_CLUSTERS,
    ...(c.hub ? { 'zz-kubevela-hub.yaml': HUB_TOPOLOGY } : {}),
    ...c.files,
  };
}

const TRICENTER_LABELS = [LABEL_MANAGED_BY];
const TRICENTER_ANNOTATIONS = [ANNOTATION_PUBLISH_VERSION, ANNOTATION_CONTENT_HASH, ANNOTATION_RESOURCE_POLICY];

/**
 * A rendered manifest as KubeVela would show it: without the stamps only tricenter writes
 * (managed-by, publish version, content hash, resource policy) and without empty label or
 * annotation maps (the API server drops them too).
 */
export function normalize(object: KubeObject): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(object)) as KubeObject;
  const metadata = copy.metadata;
  for (const key of TRICENTER_LABELS) delete metadata.labels?.[key];
  for (const key of TRICENTER_ANNOTATIONS) delete metadata.annotations?.[key];
  if (metadata.labels && Object.keys(metadata.labels).length === 0) delete metadata.labels;
  if (metadata.annotations && Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  return copy;
}
