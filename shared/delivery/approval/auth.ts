import { createHash, timingSafeEqual } from 'node:crypto';
import { TricenterError } from '../../platform/errors.ts';
import { signRequest } from '../model/request-signature.ts';

/**
 * Authentication of the approval API. Two schemes:
 * - `Authorization: Bearer <token>`: tokens are named (the name is recorded as who decided) and
 *   scoped: `viewer` tokens may only read.
 * - HMAC-SHA256 for machines (CI, chat bots): `X-Tricenter-Timestamp: <epoch ms>` and
 *   `X-Tricenter-Signature: v1=<hex>` over `<timestamp>.<METHOD>.<path>.<body>`. Binding method and
 *   path (not only timestamp and body) stops a captured "approve" body from being replayed as a
 *   "reject". Requests older or newer than the window are refused, and each signature is accepted
 *   once (the replay guard remembers it until the window has passed). Who decided is the body's
 *   `by` field, which the signature covers.
 * Every comparison is constant-time over fixed-length digests, so neither content nor length leaks.
 */

type Scope = 'viewer' | 'approver';

export interface ApprovalAuthConfig {
  /**
   * `groups`: what approval policies may name as `group:<name>`; `ossPrincipals`: the RAM principal
   * ids this person uploads to the bucket with directly (so their own uploads are theirs: no self-approval).
   */
  tokens: Array<{ name: string; token: string; scope: Scope; groups?: string[]; ossPrincipals?: string[] }>;
  hmacSecret?: string;
  /** Half-width of the accepted timestamp window (default 5 minutes). */
  windowMs?: number;
}

export interface Principal {
  name: string;
  scheme: 'bearer' | 'hmac';
  scope: Scope;
  /** The token's groups (approval policies name them as `group:<name>`). */
  groups?: string[];
  /** Other identities of this person: `oss:<principalId>` for each of the token's ossPrincipals. */
  identities?: string[];
}

/** Remembers signatures already used; `firstUse` is false for a replay. Must be shared by all instances. */
export interface ReplayGuard {
  firstUse(id: string, expiresAt: number): Promise<boolean>;
}

export interface AuthRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

const SIGNATURE_HEADER = 'x-tricenter-signature';
const TIMESTAMP_HEADER = 'x-tricenter-timestamp';
const DEFAULT_WINDOW_MS = 5 * 60 * 1000;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
const sameSecret = (a: string, b: string): boolean => timingSafeEqual(digest(a), digest(b));

export { signRequest };

function header(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function signedActor(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { by?: unknown };
    return typeof parsed.by === 'string' && parsed.by.length > 0 ? parsed.by.slice(0, 100) : undefined;
  } catch {
    return undefined;
  }
}

const unauthorized = (message: string): TricenterError => new TricenterError('UNAUTHORIZED', message);

type Token = ApprovalAuthConfig['tokens'][number];

const identitiesOf = (token: Token | undefined): string[] | undefined =>
  token?.ossPrincipals && token.ossPrincipals.length > 0 ? token.ossPrincipals.map((id) => `oss:${id}`) : undefined;

/**
 * Who holds `token`, as every channel hands them to the decider (the API's bearer header, the
 * review page's session, a one-time link's recipient): one place, so no channel forgets an
 * identity and lets "no self-approval" be bypassed there. Read from the configuration as it is now.
 */
export function principalOf(token: Token): Principal {
  const principal: Principal = { name: token.name, scheme: 'bearer', scope: token.scope };
  if (token.groups && token.groups.length > 0) principal.groups = [...token.groups];
  const identities = identitiesOf(token);
  if (identities) principal.identities = identities;
  return principal;
}

export async function authenticate(request: AuthRequest, config: ApprovalAuthConfig, now: number, replay: ReplayGuard): Promise<Principal> {
  const authorization = header(request.headers, 'authorization');
  const signature = header(request.headers, SIGNATURE_HEADER);

  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match?.[1]) throw unauthorized('malformed Authorization header: expected "Bearer <token>"');
    const presented = match[1];
    // Compare against every token so the time taken does not tell which names exist.
    let found: ApprovalAuthConfig['tokens'][number] | undefined;
    for (const candidate of config.tokens) if (sameSecret(candidate.token, presented)) found = candidate;
    if (!found) throw unauthorized('invalid bearer token');
    return principalOf(found);
  }

  if (signature !== undefined) {
    if (!config.hmacSecret) throw unauthorized('signed requests are not enabled (no HMAC secret configured)');
    const rawTimestamp = header(request.headers, TIMESTAMP_HEADER);
    if (!rawTimestamp || !/^\d{10,16}$/.test(rawTimestamp)) {
      throw unauthorized(`missing or malformed ${TIMESTAMP_HEADER} header: expected epoch milliseconds`);
    }
    const timestamp = Number(rawTimestamp);
    const windowMs = config.windowMs ?? DEFAULT_WINDOW_MS;
    if (Math.abs(now - timestamp) > windowMs) {
      throw unauthorized(`request timestamp is outside the ${Math.round(windowMs / 1000)} s window`);
    }
    const expected = signRequest(config.hmacSecret, timestamp, request.method, request.path, request.body);
    if (!sameSecret(expected, signature.trim())) throw unauthorized('invalid request signature');
    if (!(await replay.firstUse(expected, timestamp + windowMs))) throw unauthorized('replayed request: this signature was already used');
    const name = signedActor(request.body) ?? 'hmac-client';
    const principal: Principal = { name, scheme: 'hmac', scope: 'approver' };
    // A signed `by` naming a person is not that person's groups (they grant), but it is their uploads (they only refuse).
    const identities = identitiesOf(config.tokens.find((t) => t.name === name));
    if (identities) principal.identities = identities;
    return principal;
  }

  throw unauthorized('missing credentials: send "Authorization: Bearer <token>" or a signed request');
}

/** A replay guard for one process (the local twin, tests). Deployed functions use the run store's. */
export function memoryReplayGuard(now: () => number): ReplayGuard {
  const seen = new Map<string, number>();
  return {
    async firstUse(id, expiresAt) {
      const t = now();
      for (const [key, until] of seen) if (until < t) seen.delete(key);
      if (seen.has(id)) return false;
      seen.set(id, expiresAt);
      return true;
    },
  };
}
