import { TricenterError } from '../../../platform/errors.ts';

/**
 * The one place the Tablestore endpoint is derived: the functions (functions/cloud.ts) and
 * `tricenter setup` both call it with the same region and instance, so the tables setup creates
 * are the tables the functions use. An explicit endpoint (TRICENTER_OTS_ENDPOINT) wins.
 *
 *   public  https://<instance>.<region>.ots.aliyuncs.com
 *   vpc     https://<instance>.<region>.vpc.tablestore.aliyuncs.com   (functions with a vpcConfig)
 */
export const OTS_NETWORKS = ['public', 'vpc'] as const;
export type OtsNetwork = (typeof OTS_NETWORKS)[number];

/** The run store's table names start with this unless configured; here, not in its adapter, so `tricenter setup` names it without loading the SDK. */
export const DEFAULT_TABLE_PREFIX = 'tricenter_';

export interface OtsEndpointInput {
  region: string;
  instance: string;
  network?: OtsNetwork;
  /** TRICENTER_OTS_ENDPOINT or --endpoint; empty means "derive". */
  override?: string | undefined;
}

// Tablestore's naming rule: 3-16 letters, digits or hyphens, starting with a letter, not ending
// with a hyphen. Checked because the name becomes part of a host name.
const INSTANCE = /^[a-zA-Z][a-zA-Z0-9-]{1,14}[a-zA-Z0-9]$/;
const REGION = /^[a-z]{2,}(-[a-z0-9]+)+$/;

export function otsEndpoint(input: OtsEndpointInput): string {
  if (input.override) return checkedOverride(input.override);
  if (!REGION.test(input.region))
    throw new TricenterError('VALIDATION', `TRICENTER_REGION "${input.region}" is not a region id (e.g. cn-hangzhou)`);
  if (!INSTANCE.test(input.instance)) {
    throw new TricenterError(
      'VALIDATION',
      `TRICENTER_OTS_INSTANCE "${input.instance}" is not a Tablestore instance name (3-16 letters, digits or hyphens, starting with a letter)`,
    );
  }
  const network = input.network ?? 'public';
  return network === 'vpc'
    ? `https://${input.instance}.${input.region}.vpc.tablestore.aliyuncs.com`
    : `https://${input.instance}.${input.region}.ots.aliyuncs.com`;
}

function checkedOverride(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TricenterError('VALIDATION', `TRICENTER_OTS_ENDPOINT "${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new TricenterError('VALIDATION', `TRICENTER_OTS_ENDPOINT "${value}" is not an http(s) URL`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new TricenterError(
      'VALIDATION',
      `TRICENTER_OTS_ENDPOINT "${value}" must be a bare origin (scheme://host[:port]), no path, query or credentials`,
    );
  }
  return url.origin;
}
