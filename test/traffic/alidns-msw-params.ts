/**
 * Request-parameter checks of the in-memory Alidns (alidns-msw.ts): required names, allowed values
 * and ranges from docs/aliyun-api/alidns-gtm-2015-01-09.json, and the flattened repeat lists
 * (`Addr.N.Field`, N from 1, no gaps).
 */
import { verifyRpcSignature } from '#shared/traffic/adapters/aliyun/rpc-signature.ts';

export type Params = Record<string, unknown>;

export class WireError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Wire = Record<string, string>;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * The common RPC parameters of every Alidns request (GTM 2.0 and 3.0 alike): present, the API
 * version, the signature method, a UTC timestamp, a known key, a valid signature, a fresh nonce,
 * and no value pop-core would have sent as the text "undefined".
 */
export function checkCommonParams(method: string, p: Wire, keys: Record<string, string>, nonces: Set<string>): void {
  for (const name of [
    'Action',
    'Version',
    'AccessKeyId',
    'SignatureMethod',
    'SignatureVersion',
    'SignatureNonce',
    'Timestamp',
    'Signature',
  ]) {
    if (!p[name])
      throw new WireError(
        400,
        'MissingParameter',
        `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
      );
  }
  if (p.Version !== '2015-01-09') throw new WireError(400, 'NoSuchVersion', `The specified version ${p.Version} does not exist.`);
  if (p.SignatureMethod !== 'HMAC-SHA1' || p.SignatureVersion !== '1.0')
    throw new WireError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
  if (!TIMESTAMP.test(p.Timestamp ?? ''))
    throw new WireError(
      400,
      'IllegalTimestamp',
      'The input parameter "Timestamp" that is mandatory for processing this request is not supplied.',
    );
  const secret = keys[p.AccessKeyId ?? ''];
  if (secret === undefined) throw new WireError(400, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
  if (!verifyRpcSignature(method, p, secret))
    throw new WireError(403, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
  if (nonces.has(p.SignatureNonce ?? '')) throw new WireError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
  nonces.add(p.SignatureNonce ?? '');
  const undefinedParam = Object.entries(p).find(([, v]) => v === 'undefined');
  if (undefinedParam) throw new WireError(400, 'InvalidParameter', `The parameter ${undefinedParam[0]} is invalid: "undefined".`);
}

export function required(p: Wire, name: string): string {
  const value = p[name];
  if (value === undefined || value === '') {
    throw new WireError(
      400,
      'MissingParameter',
      `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
    );
  }
  return value;
}

export function oneOf(p: Wire, name: string, values: string[], mandatory: boolean): string | undefined {
  const value = mandatory ? required(p, name) : p[name];
  if (value !== undefined && !values.includes(value)) {
    throw new WireError(400, 'InvalidParameter', `The parameter ${name} must be one of ${values.join(', ')}; got "${value}".`);
  }
  return value;
}

export function intIn(p: Wire, name: string, min: number, max: number, mandatory: boolean): number | undefined {
  const raw = mandatory ? required(p, name) : p[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || n < min || n > max) {
    throw new WireError(400, 'InvalidParameter', `The parameter ${name} must be an integer in [${min}, ${max}]; got "${raw}".`);
  }
  return n;
}

/** `Prefix.N.Field` entries as a list of `{Field: value}`, N = 1, 2, ... without gaps. */
function repeatList(p: Wire, prefix: string): Array<Record<string, string>> {
  const items = new Map<number, Record<string, string>>();
  const pattern = new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d+)\\.([A-Za-z]+)$`);
  for (const [key, value] of Object.entries(p)) {
    const m = pattern.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const item = items.get(index) ?? {};
    item[m[2] as string] = value;
    items.set(index, item);
  }
  const indices = [...items.keys()].sort((a, b) => a - b);
  indices.forEach((n, i) => {
    if (n !== i + 1)
      throw new WireError(400, 'InvalidParameter', `The repeat list ${prefix} must be numbered from 1 without gaps; found ${prefix}.${n}.`);
  });
  return indices.map((n) => items.get(n) as Record<string, string>);
}

export function jsonOf(p: Wire, name: string, mandatory: boolean): string | undefined {
  const raw = mandatory ? required(p, name) : p[name];
  if (raw === undefined) return undefined;
  try {
    JSON.parse(raw);
  } catch {
    throw new WireError(400, 'InvalidParameter', `The parameter ${name} must be a JSON string.`);
  }
  return raw;
}

export function poolParams(
  p: Wire,
  create: boolean,
): { name: string; type: string; lbaStrategy: string; addrs: Array<Record<string, unknown>> } {
  const name = create ? required(p, 'Name') : (p.Name ?? '');
  const type = create ? (oneOf(p, 'Type', ['IPV4', 'IPV6', 'DOMAIN'], true) as string) : '';
  const lbaStrategy = oneOf(p, 'LbaStrategy', ['ALL_RR', 'RATIO'], true) as string;
  const list = repeatList(p, 'Addr');
  if (list.length === 0) required(p, 'Addr.1.Addr');
  if (list.length > 50) throw new WireError(400, 'InvalidParameter', 'At most 50 addresses per pool.');
  const addrs = list.map((item, i) => {
    const n = i + 1;
    const scoped = Object.fromEntries(Object.entries(item).map(([k, v]) => [`Addr.${n}.${k}`, v]));
    const addr = required(scoped, `Addr.${n}.Addr`);
    const mode = oneOf(scoped, `Addr.${n}.Mode`, ['SMART', 'ONLINE', 'OFFLINE'], true);
    const attributeInfo = jsonOf(scoped, `Addr.${n}.AttributeInfo`, create);
    const weight = intIn(scoped, `Addr.${n}.LbaWeight`, 1, 100, false);
    return {
      Addr: addr,
      Mode: mode,
      LbaWeight: weight ?? 1,
      Remark: item.Remark ?? '',
      AttributeInfo: attributeInfo ?? '{"lineCodeRectifyType":"AUTO","lineCode":[]}',
    };
  });
  return { name, type, lbaStrategy, addrs };
}

export function monitorParams(p: Wire, action: 'AddDnsGtmAddressPool' | 'AddDnsGtmMonitor' | 'UpdateDnsGtmMonitor'): Params {
  const monitorAction = action !== 'AddDnsGtmAddressPool';
  const mandatory = action !== 'UpdateDnsGtmMonitor';
  const [iMin, iMax, eMin, eMax, tMin, tMax] = monitorAction ? [15, 60, 1, 3, 1000, 10000] : [1, 9999999, 1, 9999999, 1, 9999999];
  const nodes = repeatList(p, 'IspCityNode');
  if (monitorAction && nodes.length === 0) required(p, 'IspCityNode.1.CityCode');
  const out: Params = {
    ProtocolType: oneOf(p, 'ProtocolType', ['HTTP', 'HTTPS', 'PING', 'TCP'], true),
    Interval: intIn(p, 'Interval', iMin as number, iMax as number, mandatory),
    EvaluationCount: intIn(p, 'EvaluationCount', eMin as number, eMax as number, mandatory),
    Timeout: intIn(p, 'Timeout', tMin as number, tMax as number, mandatory),
    MonitorExtendInfo: jsonOf(p, 'MonitorExtendInfo', true),
    IspCityNode: nodes.length > 0 ? nodes : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export function strategyParams(p: Wire, poolInInstance: (id: string) => boolean): Params {
  const poolRefs = (prefix: string) =>
    repeatList(p, prefix).map((item, i) => {
      const id = item.Id ?? '';
      if (!poolInInstance(id))
        throw new WireError(400, 'InvalidParameter', `${prefix}.${i + 1}.Id: the address pool "${id}" does not exist in this instance.`);
      return { Id: id, LbaWeight: intIn({ w: item.LbaWeight ?? '1' }, 'w', 1, 100, true) };
    });
  const primary = poolRefs('DefaultAddrPool');
  if (primary.length === 0) required(p, 'DefaultAddrPool.1.Id');
  const failover =
    p.FailoverAddrPool === 'EMPTY' ? [] : repeatList(p, 'FailoverAddrPool').length > 0 ? poolRefs('FailoverAddrPool') : undefined;
  const lines = jsonOf(p, 'Lines', false);
  if (lines !== undefined && !Array.isArray(JSON.parse(lines)))
    throw new WireError(400, 'InvalidParameter', 'Lines must be a JSON array of line codes.');
  const out: Params = {
    StrategyName: required(p, 'StrategyName'),
    Lines: lines,
    DefaultAddrPoolType: oneOf(p, 'DefaultAddrPoolType', ['IPV4', 'IPV6', 'DOMAIN'], true),
    DefaultLbaStrategy: oneOf(p, 'DefaultLbaStrategy', ['ALL_RR', 'RATIO'], false),
    DefaultMinAvailableAddrNum: intIn(p, 'DefaultMinAvailableAddrNum', 1, 400, true),
    DefaultMaxReturnAddrNum: intIn(p, 'DefaultMaxReturnAddrNum', 1, 8, false),
    DefaultAddrPool: primary,
    FailoverAddrPoolType: oneOf(p, 'FailoverAddrPoolType', ['IPV4', 'IPV6', 'DOMAIN'], false),
    FailoverLbaStrategy: oneOf(p, 'FailoverLbaStrategy', ['ALL_RR', 'RATIO'], false),
    FailoverMinAvailableAddrNum: intIn(p, 'FailoverMinAvailableAddrNum', 1, 400, false),
    FailoverMaxReturnAddrNum: intIn(p, 'FailoverMaxReturnAddrNum', 1, 8, false),
    FailoverAddrPool: failover,
    AccessMode: oneOf(p, 'AccessMode', ['AUTO', 'DEFAULT', 'FAILOVER'], false),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}
