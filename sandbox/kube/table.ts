import { isObject, type Json, type JsonObject } from './fieldpath.ts';
import type { ResourceType } from './resources.ts';

/**
 * Server-side printing: the `Table` kubectl asks for (`Accept: application/json;as=Table;...`),
 * with the columns kube-apiserver 1.20 prints for the served kinds. Without it kubectl would show
 * only names; with it `kubectl get ingress` shows the ADDRESS column, as on a real cluster.
 */
interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, type: Column['type'] = 'string', priority = 0, format = ''): Column => ({
  name,
  type,
  format,
  description: `${name} of the object`,
  priority,
});
const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 };
const AGE: Column = {
  name: 'Age',
  type: 'string',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

/** k8s.io/apimachinery's duration.HumanDuration: `45s`, `3m20s`, `5h`, `2d3h`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

const o = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const num = (v: Json | undefined): number => (typeof v === 'number' ? v : 0);

function selectorString(selector: Json | undefined): string {
  const entries = Object.entries(o(selector));
  return entries.length ? entries.map(([k, v]) => `${k}=${String(v)}`).join(',') : '<none>';
}

function labelSelectorString(selector: Json | undefined): string {
  const s = o(selector);
  const parts = Object.entries(o(s.matchLabels)).map(([k, v]) => `${k}=${String(v)}`);
  for (const e of arr(s.matchExpressions).map(o)) {
    const values = arr(e.values).join(',');
    if (e.operator === 'In') parts.push(`${String(e.key)} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${String(e.key)} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(String(e.key));
    else if (e.operator === 'DoesNotExist') parts.push(`!${String(e.key)}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}

function loadBalancerAddresses(status: Json | undefined): string[] {
  return arr(o(o(status).loadBalancer).ingress)
    .map((i) => String(o(i).ip ?? o(i).hostname ?? ''))
    .filter(Boolean);
}

interface Printer {
  columns: Column[];
  cells(obj: JsonObject, age: string): Json[];
}

const PRINTERS: Record<string, Printer> = {
  Namespace: { columns: [NAME, col('Status'), AGE], cells: (x, age) => [name(x), String(o(x.status).phase ?? ''), age] },
  ConfigMap: {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (x, age) => [name(x), Object.keys(o(x.data)).length + Object.keys(o(x.binaryData)).length, age],
  },
  Secret: {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    cells: (x, age) => [name(x), String(x.type ?? ''), Object.keys(o(x.data)).length, age],
  },
  Service: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    cells: (x, age) => {
      const spec = o(x.spec);
      const external = [...arr(spec.externalIPs).map(String), ...loadBalancerAddresses(x.status)];
      const externalText = external.length
        ? external.join(',')
        : spec.type === 'LoadBalancer'
          ? '<pending>'
          : spec.type === 'ExternalName'
            ? String(spec.externalName ?? '')
            : '<none>';
      const ports = arr(spec.ports)
        .map(o)
        .map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`);
      return [
        name(x),
        String(spec.type ?? ''),
        String(spec.clusterIP ?? '<none>'),
        externalText,
        ports.length ? ports.join(',') : '<none>',
        age,
        selectorString(spec.selector),
      ];
    },
  },
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (x, age) => {
      const spec = o(x.spec);
      const status = o(x.status);
      const containers = arr(o(o(spec.template).spec).containers).map(o);
      return [
        name(x),
        `${num(status.readyReplicas)}/${num(spec.replicas)}`,
        num(status.updatedReplicas),
        num(status.availableReplicas),
        age,
        containers.map((c) => String(c.name)).join(','),
        containers.map((c) => String(c.image)).join(','),
        labelSelectorString(spec.selector),
      ];
    },
  },
  Ingress: {
    columns: [NAME, col('Class'), col('Hosts'), col('Address'), col('Ports'), AGE],
    cells: (x, age) => {
      const spec = o(x.spec);
      const hosts = arr(spec.rules)
        .map((r) => String(o(r).host ?? ''))
        .filter(Boolean);
      return [
        name(x),
        String(spec.ingressClassName ?? '<none>'),
        hosts.length ? hosts.join(',') : '*',
        loadBalancerAddresses(x.status).join(','),
        arr(spec.tls).length ? '80, 443' : '80',
        age,
      ];
    },
  },
};

function name(x: JsonObject): string {
  return String(o(x.metadata).name ?? '');
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function partialMetadata(obj: JsonObject): JsonObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o(obj.metadata) };
}

export function toTable(
  type: ResourceType,
  objects: JsonObject[],
  listMeta: JsonObject,
  nowMs: number,
  include: IncludeObject,
  tableVersion: string,
): JsonObject {
  const printer = PRINTERS[type.kind] ?? { columns: [NAME, AGE], cells: (x: JsonObject, age: string) => [name(x), age] };
  const rows = objects.map((obj) => {
    const created = Date.parse(String(o(obj.metadata).creationTimestamp ?? ''));
    const row: JsonObject = { cells: printer.cells(obj, Number.isNaN(created) ? '<unknown>' : humanDuration(nowMs - created)) };
    if (include === 'Metadata') row.object = partialMetadata(obj);
    else if (include === 'Object') row.object = { apiVersion: obj.apiVersion ?? null, kind: obj.kind ?? null, ...obj };
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${tableVersion}`,
    metadata: listMeta,
    columnDefinitions: printer.columns as unknown as Json[],
    rows,
  };
}
