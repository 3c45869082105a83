import type { EnvVar, HostAliases, LegacyVolumes, Probe, VolumeMounts } from '../../model/components/container.ts';
import { LABEL_APP_NAME, LABEL_COMPONENT } from '../../model/ownership.ts';

/**
 * The pod pieces KubeVela's built-in component templates share: container, volumes, pod labels.
 * Pure builders: parameters in, plain JSON out, no field written that the template would not write.
 */

/** What a component template reads from KubeVela's `context`. */
export interface ComponentContext {
  appName: string;
  componentName: string;
}

const LABEL_WORKLOAD_TYPE = 'workload.oam.dev/type';
const LABEL_RESOURCE_TYPE = 'app.oam.dev/resourceType';
const LABEL_TRAIT_TYPE = 'trait.oam.dev/type';
const LABEL_TRAIT_RESOURCE = 'trait.oam.dev/resource';

type Json = Record<string, unknown>;

/** The workload's own labels, as KubeVela's dry run shows them (e2e/plugin/plugin_test.go). */
export function workloadLabels(type: string): Record<string, string> {
  return { [LABEL_WORKLOAD_TYPE]: type, [LABEL_RESOURCE_TYPE]: 'WORKLOAD' };
}

/** An output beside the workload: a component's own (`AuxiliaryWorkload`) or a trait's. */
export function outputLabels(traitType: string, resource: string): Record<string, string> {
  return { [LABEL_TRAIT_TYPE]: traitType, [LABEL_TRAIT_RESOURCE]: resource, [LABEL_RESOURCE_TYPE]: 'TRAIT' };
}

/** Pod template metadata: the `labels` parameter first, then the application and component labels over it. */
export function podMetadata(ctx: ComponentContext, labels?: Record<string, string>, annotations?: Record<string, string>): Json {
  const metadata: Json = { labels: { ...labels, [LABEL_APP_NAME]: ctx.appName, [LABEL_COMPONENT]: ctx.componentName } };
  if (annotations !== undefined) metadata.annotations = { ...annotations };
  return metadata;
}

/** `cpu` / `memory` become request and limit alike, unless `limit` says otherwise (webservice only). */
export function resources(
  cpu?: string,
  memory?: string,
  limit?: { cpu?: string | undefined; memory?: string | undefined },
): Json | undefined {
  if (cpu === undefined && memory === undefined) return undefined;
  const requests: Json = {};
  const limits: Json = {};
  if (cpu !== undefined) {
    requests.cpu = cpu;
    limits.cpu = limit?.cpu ?? cpu;
  }
  if (memory !== undefined) {
    requests.memory = memory;
    limits.memory = limit?.memory ?? memory;
  }
  return { requests, limits };
}

export function probe(p: Probe): Json {
  return JSON.parse(JSON.stringify(p)) as Json;
}

export function envList(env: EnvVar[]): Json[] {
  return env.map((e) => JSON.parse(JSON.stringify(e)) as Json);
}

export function imagePullSecrets(names: string[]): Json[] {
  return names.map((name) => ({ name }));
}

export function hostAliases(aliases: HostAliases): Json[] {
  return aliases.map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] }));
}

const withItems = (volume: Json, items: unknown[] | undefined): Json =>
  items === undefined ? volume : { ...volume, items: structuredClone(items) };

/**
 * `volumeMounts`: mounts in the template's order (pvc, configMap, secret, emptyDir, hostPath) and
 * the volumes behind them, one per name (the first wins, as the template's de-duplication does).
 */
function volumeMountsToPod(v: VolumeMounts): { volumeMounts: Json[]; volumes: Json[] } {
  const mounts: Json[] = [];
  const volumes: Json[] = [];
  const add = (m: { name: string; mountPath: string; subPath?: string | undefined }, volume: Json) => {
    mounts.push(
      m.subPath === undefined ? { mountPath: m.mountPath, name: m.name } : { mountPath: m.mountPath, subPath: m.subPath, name: m.name },
    );
    volumes.push({ name: m.name, ...volume });
  };
  for (const m of v.pvc ?? []) add(m, { persistentVolumeClaim: { claimName: m.claimName } });
  for (const m of v.configMap ?? []) add(m, { configMap: withItems({ defaultMode: m.defaultMode, name: m.cmName }, m.items) });
  for (const m of v.secret ?? []) add(m, { secret: withItems({ defaultMode: m.defaultMode, secretName: m.secretName }, m.items) });
  for (const m of v.emptyDir ?? []) add(m, { emptyDir: { medium: m.medium } });
  for (const m of v.hostPath ?? []) add(m, { hostPath: { path: m.path } });
  const seen = new Set<string>();
  return { volumeMounts: mounts, volumes: volumes.filter((vol) => !seen.has(vol.name as string) && seen.add(vol.name as string)) };
}

/** `volumes` (deprecated): one mount and one volume per entry, by its `type`. */
function legacyVolumesToPod(list: LegacyVolumes): { volumeMounts: Json[]; volumes: Json[] } {
  return {
    volumeMounts: list.map((v) => ({ mountPath: v.mountPath, name: v.name })),
    volumes: list.map((v): Json => {
      switch (v.type) {
        case 'pvc':
          return { name: v.name, persistentVolumeClaim: { claimName: v.claimName } };
        case 'configMap':
          return { name: v.name, configMap: withItems({ defaultMode: v.defaultMode, name: v.cmName }, v.items) };
        case 'secret':
          return { name: v.name, secret: withItems({ defaultMode: v.defaultMode, secretName: v.secretName }, v.items) };
        default:
          return { name: v.name, emptyDir: { medium: v.medium } };
      }
    }),
  };
}

/** The volumes of a component: `volumeMounts` when given, else the deprecated `volumes`, else none. */
export function podVolumes(volumeMounts: VolumeMounts | undefined, volumes: LegacyVolumes | undefined) {
  if (volumeMounts !== undefined) return volumeMountsToPod(volumeMounts);
  if (volumes !== undefined) return legacyVolumesToPod(volumes);
  return undefined;
}

/** Sets `key` only when there is a value: the templates write no empty fields. */
export function setIf(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/** Sets a list only when it has entries (an empty list is what the API server drops anyway). */
export function setList(target: Json, key: string, value: unknown[] | undefined): void {
  if (value !== undefined && value.length > 0) target[key] = value;
}
