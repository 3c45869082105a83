import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TricenterError } from '#shared/platform/errors.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { LocalEndpoints } from '#local/twin.ts';
import type { ApiTarget } from './client.ts';

export const DEFAULT_ENDPOINTS_FILE = '.tricenter/endpoints.json';

/** `--endpoint/--token`, else TRICENTER_ENDPOINT/TRICENTER_TOKEN, else the running local twin's endpoints file. */
export function resolveTarget(options: { endpoint?: string; token?: string; endpoints?: string }): ApiTarget {
  const endpoint = options.endpoint ?? process.env.TRICENTER_ENDPOINT;
  const token = options.token ?? process.env.TRICENTER_TOKEN;
  if (endpoint && token) return { endpoint, token };
  const local = readEndpoints(options.endpoints);
  return { endpoint: endpoint ?? local.approvalUrl, token: token ?? local.token };
}

export function readEndpoints(file = DEFAULT_ENDPOINTS_FILE): LocalEndpoints {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new TricenterError(
      'NOT_FOUND',
      `${file} not found: start the local twin with \`npm start\` (or \`tricenter local up\`), or pass --endpoint and --token`,
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as LocalEndpoints;
}

export function parseAppRef(value: string): AppRef {
  const match = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(value);
  if (!match?.[1] || !match[2]) throw new TricenterError('VALIDATION', `"${value}" is not <namespace>/<name>, e.g. demo/web-demo`);
  return { namespace: match[1], name: match[2] };
}
