import { createHmac, timingSafeEqual } from 'node:crypto';
import { principalOf, type ApprovalAuthConfig, type Principal } from './auth.ts';

/**
 * The review page's browser session. A signed-in approver gets a cookie
 * `<name>.<expiresAt>.<mac>`: the MAC is keyed by the token the person signed in with, so the
 * cookie carries no secret, names whose token it is, expires, and dies with its token (rotate a
 * token and its sessions end). The CSRF token of a session is another MAC over the same name and
 * expiry, so it belongs to that one session. Nothing is stored server-side.
 */

export const SESSION_COOKIE = 'tricenter_review';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export interface ReviewSession {
  principal: Principal;
  expiresAt: number;
  /** Goes into every decision form; the POST must return it. */
  csrf: string;
}

type Token = ApprovalAuthConfig['tokens'][number];

const mac = (token: Token, purpose: string, name: string, expiresAt: number): string =>
  createHmac('sha256', `tricenter-review-session\0${token.token}`).update(`${purpose}\0${name}\0${expiresAt}`).digest('base64url');

function sameMac(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The cookie's value for a person who just proved they hold `token`. */
export function issueSession(token: Token, now: number, ttlMs = SESSION_TTL_MS): { value: string; expiresAt: number } {
  const expiresAt = now + ttlMs;
  const name = Buffer.from(token.name).toString('base64url');
  return { value: `${name}.${expiresAt}.${mac(token, 'session', token.name, expiresAt)}`, expiresAt };
}

function cookieValue(cookieHeader: string | undefined, cookie: string): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === cookie) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The session the request's cookie proves; undefined when absent, forged, expired, or its token is gone. */
export function readSession(cookieHeader: string | undefined, config: ApprovalAuthConfig, now: number): ReviewSession | undefined {
  const value = cookieValue(cookieHeader, SESSION_COOKIE);
  const match = value ? /^([A-Za-z0-9_-]{1,200})\.(\d{13})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
  if (!match) return undefined;
  const name = Buffer.from(match[1] as string, 'base64url').toString('utf8');
  const expiresAt = Number(match[2]);
  if (expiresAt <= now) return undefined;
  const token = config.tokens.find((t) => t.name === name);
  if (!token || !sameMac(mac(token, 'session', name, expiresAt), match[3] as string)) return undefined;
  // The token's groups and identities as configured now (not as signed in), exactly as the API's bearer header gives them.
  return { principal: principalOf(token), expiresAt, csrf: mac(token, 'csrf', name, expiresAt) };
}

export function validCsrf(session: ReviewSession, presented: string | undefined): boolean {
  return presented !== undefined && sameMac(session.csrf, presented);
}

/** `Set-Cookie` for a session (Secure when the page is served over https); `expiresAt` 0 clears it. */
export function sessionCookie(value: string, expiresAt: number, now: number, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
  return `${SESSION_COOKIE}=${value}; Path=/apps/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/**
 * A state-changing request must come from the page itself: its Origin (sent by every browser on a
 * POST) names the host the request was sent to. A missing Origin is refused too.
 */
export function sameOrigin(headers: Record<string, string>): boolean {
  const origin = headers.origin;
  const host = headers.host;
  if (!origin || !host || origin === 'null') return false;
  try {
    const url = new URL(origin);
    return url.host === host && (url.protocol === 'http:' || url.protocol === 'https:');
  } catch {
    return false;
  }
}
