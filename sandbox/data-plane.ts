import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Controllers } from './controllers.ts';
import { isObject, type Json, type JsonObject } from './kube/fieldpath.ts';
import { findResource, type ResourceType } from './kube/resources.ts';
import { matchesLabels, type LabelSelector } from './kube/selectors.ts';
import type { ObjectStore } from './kube/store.ts';

/**
 * The cluster's ingress controller and pods: a request is routed by Host and path through the
 * Ingresses to a Service and on to a ready Deployment whose pod template the Service selects; the
 * "pod" answers with what it would know: the cluster, its first container's env and the files it
 * mounts from ConfigMaps. No rule: 404; no ready backend or a failed cluster: 503, nginx-style.
 */
export interface DataPlaneContext {
  clusterName: string;
  store: ObjectStore;
  controllers: Controllers;
  isDown: () => boolean;
}

const type = (group: string, plural: string): ResourceType => findResource(group, 'v1', plural) as ResourceType;
const INGRESSES = type('networking.k8s.io', 'ingresses');
const SERVICES = type('', 'services');
const DEPLOYMENTS = type('apps', 'deployments');
const CONFIGMAPS = type('', 'configmaps');
const SECRETS = type('', 'secrets');

const o = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);

function nginxPage(code: number, text: string): string {
  return `<html>\r\n<head><title>${code} ${text}</title></head>\r\n<body>\r\n<center><h1>${code} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}

function sendPage(res: ServerResponse, code: 404 | 503): void {
  const body = nginxPage(code, code === 404 ? 'Not Found' : 'Service Temporarily Unavailable');
  res.writeHead(code, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body), Server: 'nginx' });
  res.end(body);
}

interface Route {
  namespace: string;
  backend: JsonObject;
  /** Longer paths win; Exact beats Prefix; a rule naming the host beats one that does not. */
  score: number;
}

function hostMatches(ruleHost: string | undefined, host: string): boolean {
  if (!ruleHost) return true;
  if (ruleHost.startsWith('*.')) {
    const suffix = ruleHost.slice(1);
    return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.') && host.length > suffix.length;
  }
  return ruleHost === host;
}

function pathMatches(pathType: string, rulePath: string, path: string): boolean {
  if (pathType === 'Exact') return path === rulePath;
  if (pathType === 'ImplementationSpecific') return path.startsWith(rulePath);
  const prefix = rulePath.replace(/\/+$/, '');
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`);
}

function findRoute(store: ObjectStore, host: string, path: string): Route | undefined {
  let best: Route | undefined;
  for (const ingress of store.list(INGRESSES)) {
    const namespace = String(o(ingress.metadata).namespace);
    const spec = o(ingress.spec);
    for (const rule of arr(spec.rules).map(o)) {
      const ruleHost = typeof rule.host === 'string' ? rule.host : undefined;
      if (!hostMatches(ruleHost, host)) continue;
      for (const p of arr(o(rule.http).paths).map(o)) {
        const rulePath = String(p.path ?? '/');
        const pathType = String(p.pathType ?? 'Prefix');
        if (!pathMatches(pathType, rulePath, path)) continue;
        const score = (ruleHost ? 1_000_000 : 0) + rulePath.length * 2 + (pathType === 'Exact' ? 1 : 0);
        if (!best || score > best.score) best = { namespace, backend: o(p.backend), score };
      }
    }
    if (!best && isObject(spec.defaultBackend)) best = { namespace, backend: spec.defaultBackend, score: -1 };
  }
  return best;
}

interface PodView {
  cluster: string;
  namespace: string;
  deployment: string;
  container: string;
  image: string;
  env: Record<string, string>;
  files: Record<string, string>;
  request: { host: string; path: string };
}

function resolveEnv(store: ObjectStore, namespace: string, container: JsonObject): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of arr(container.env).map(o)) {
    const name = String(entry.name ?? '');
    if (entry.value !== undefined) env[name] = String(entry.value);
    const from = o(entry.valueFrom);
    if (isObject(from.configMapKeyRef)) {
      const ref = from.configMapKeyRef;
      const value = o(store.get(CONFIGMAPS, namespace, String(ref.name))?.data)[String(ref.key)];
      if (value !== undefined) env[name] = String(value);
    } else if (isObject(from.secretKeyRef)) {
      const ref = from.secretKeyRef;
      const value = o(store.get(SECRETS, namespace, String(ref.name))?.data)[String(ref.key)];
      if (value !== undefined) env[name] = Buffer.from(String(value), 'base64').toString('utf8');
    }
  }
  return env;
}

function resolveFiles(store: ObjectStore, namespace: string, podSpec: JsonObject, container: JsonObject): Record<string, string> {
  const files: Record<string, string> = {};
  const volumes = new Map(
    arr(podSpec.volumes)
      .map(o)
      .map((v) => [String(v.name), v]),
  );
  for (const mount of arr(container.volumeMounts).map(o)) {
    const source = o(volumes.get(String(mount.name))?.configMap);
    if (!source.name) continue;
    const data = o(store.get(CONFIGMAPS, namespace, String(source.name))?.data);
    const base = String(mount.mountPath ?? '').replace(/\/+$/, '');
    const items = arr(source.items).map(o);
    const entries = items.length
      ? items.map((i) => [String(i.key), String(i.path ?? i.key)] as const)
      : Object.keys(data).map((k) => [k, k] as const);
    for (const [key, path] of entries) if (data[key] !== undefined) files[`${base}/${path}`] = String(data[key]);
  }
  return files;
}

function findPod(ctx: DataPlaneContext, route: Route, host: string, path: string): PodView | undefined {
  const serviceRef = o(route.backend.service);
  const service = ctx.store.get(SERVICES, route.namespace, String(serviceRef.name ?? ''));
  if (!service) return undefined;
  const wantedPort = o(serviceRef.port);
  const ports = arr(o(service.spec).ports).map(o);
  if (!ports.some((p) => (wantedPort.number !== undefined ? p.port === wantedPort.number : p.name === wantedPort.name))) return undefined;
  const selector = o(o(service.spec).selector);
  if (Object.keys(selector).length === 0) return undefined;
  const requirements: LabelSelector = Object.entries(selector).map(([key, value]) => ({ key, op: 'eq', value: String(value) }));
  for (const deployment of ctx.store.list(DEPLOYMENTS, route.namespace)) {
    const name = String(o(deployment.metadata).name);
    const template = ctx.controllers.servingTemplate(route.namespace, name);
    if (!template || Number(o(deployment.status).readyReplicas ?? 0) === 0) continue;
    if (!matchesLabels(requirements, o(o(template.metadata).labels) as Record<string, string>)) continue;
    const podSpec = o(template.spec);
    const container = o(arr(podSpec.containers)[0]);
    return {
      cluster: ctx.clusterName,
      namespace: route.namespace,
      deployment: name,
      container: String(container.name ?? ''),
      image: String(container.image ?? ''),
      env: resolveEnv(ctx.store, route.namespace, container),
      files: resolveFiles(ctx.store, route.namespace, podSpec, container),
      request: { host, path },
    };
  }
  return undefined;
}

function renderText(pod: PodView): string {
  const lines = [
    `cluster: ${pod.cluster}`,
    `deployment: ${pod.namespace}/${pod.deployment}`,
    `container: ${pod.container} (${pod.image})`,
    'env:',
  ];
  for (const [name, value] of Object.entries(pod.env)) lines.push(`  ${name}=${value}`);
  lines.push('files:');
  for (const [path, content] of Object.entries(pod.files)) {
    lines.push(`  ${path}:`);
    for (const line of content.replace(/\n$/, '').split('\n')) lines.push(`    ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

export function handleDataPlaneRequest(ctx: DataPlaneContext, req: IncomingMessage, res: ServerResponse): void {
  if (ctx.isDown()) return sendPage(res, 503);
  const url = new URL(req.url ?? '/', 'http://data-plane');
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  const route = findRoute(ctx.store, host, url.pathname);
  if (!route) return sendPage(res, 404);
  const pod = findPod(ctx, route, host, url.pathname);
  if (!pod) return sendPage(res, 503);
  const wantsJson = url.searchParams.get('format') === 'json' || String(req.headers.accept ?? '').includes('application/json');
  const body = wantsJson ? JSON.stringify(pod) : renderText(pod);
  res.writeHead(200, {
    'Content-Type': wantsJson ? 'application/json' : 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Sandbox-Cluster': pod.cluster,
  });
  res.end(body);
}
