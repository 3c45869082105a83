import type { ApprovalPolicy, Approver } from './approval-policy.ts';
import { isListedApprover } from './approval-policy.ts';
import type { AppRef } from './ownership.ts';

/**
 * A one-time approval link (issue 16, item 4): a URL a "waiting for approval" message carries,
 * `/links/<token>`, where the token is 32 random bytes in base64url. Only the token's SHA-256
 * (`hash`, hex) is stored, with what the link is bound to: one recipient (an approver the step's
 * policy allows), the run, the step, the review digest at minting (what the message showed) and an
 * expiry. Its first POST consumes it (a conditional write: exactly one caller wins); a GET never does.
 */
export interface ApprovalLink {
  /** Hex SHA-256 of the token; the token itself is never stored. */
  hash: string;
  app: AppRef;
  runId: string;
  step: string;
  /** The approval token's name the decision is recorded as. */
  recipient: string;
  /** The review digest when the link was minted: a decision through it needs the same one now. */
  digest: string;
  policyVersion: string;
  createdAt: number;
  expiresAt: number;
  /** Set once, by the one consume that won. */
  consumedAt?: number;
}

/** What a consume found: it won, or why not. */
export type ConsumeOutcome =
  | { outcome: 'consumed'; link: ApprovalLink }
  | { outcome: 'used'; link: ApprovalLink }
  | { outcome: 'expired'; link: ApprovalLink }
  | { outcome: 'unknown' };

/** 32 bytes in base64url, unpadded: exactly 43 characters of the URL-safe alphabet. */
export const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const DEFAULT_LINK_TTL_MS = 24 * 60 * 60 * 1000;
/** The longest a link may be configured to live (TRICENTER_APPROVAL_LINK_TTL): 30 days. */
export const MAX_LINK_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * When a link minted `now` expires: after `ttlMs`, and never after the step's own deadline (for a
 * step waiting for approval, its approval timeout), so a link never outlives what it decides.
 */
export function linkExpiry(now: number, ttlMs: number, stepDeadline: number | undefined): number {
  const expiry = now + ttlMs;
  return stepDeadline === undefined ? expiry : Math.min(expiry, stepDeadline);
}

/** An approval token as recipients are chosen from it (approval token configuration). */
export interface ApproverToken {
  name: string;
  scope: 'viewer' | 'approver';
  groups?: readonly string[];
  /** OSS principals whose direct uploads are this person's (`oss:<id>` as a run's uploader). */
  ossPrincipals?: readonly string[];
}

/**
 * Who gets a link for a step: every approver-scope token the step's policy allows, by name or
 * through one of its groups (`group:<name>` expands to every token carrying that group); a policy
 * without `approvers` allows every approver token. Viewer tokens never. Under a policy the release's
 * uploader never (the decider refuses their approval); without one, any approver token decides
 * alone, the uploader's too, as the decider lets them. Sorted by name, each once.
 */
export function linkRecipients(
  policy: ApprovalPolicy | undefined,
  tokens: readonly ApproverToken[],
  uploadedBy: string | undefined,
): string[] {
  const names = new Set<string>();
  for (const token of tokens) {
    if (token.scope !== 'approver') continue;
    if (policy !== undefined && uploadedBy !== undefined && isUploader(token, uploadedBy)) continue;
    const approver: Approver = { name: token.name, groups: token.groups ?? [] };
    if (policy === undefined || isListedApprover(policy, approver)) names.add(token.name);
  }
  return [...names].sort();
}

/**
 * The approvers a notification channel's `recipients` names (token names, `group:<name>` for every
 * token carrying that group), expanded through the approval token configuration as a policy's
 * `approvers` are: approver tokens only. A channel carries one-time links for these and no one else.
 */
export function channelRecipients(entries: readonly string[] | undefined, tokens: readonly ApproverToken[]): Set<string> {
  const names = new Set<string>();
  if (entries === undefined || entries.length === 0) return names;
  const policy: ApprovalPolicy = { approvers: [...entries], required: 1, onTimeout: 'fail' };
  for (const token of tokens) {
    if (token.scope === 'approver' && isListedApprover(policy, { name: token.name, groups: token.groups ?? [] })) names.add(token.name);
  }
  return names;
}

/**
 * Why a channel's `recipients` entry cannot be (undefined when it can): it must name an approver
 * token, or a group that at least one approver token carries. A viewer is refused, not skipped: a
 * channel configured for someone who can never decide is a mistake to say, not to hide.
 */
export function channelRecipientProblem(entry: string, tokens: readonly ApproverToken[]): string | undefined {
  const group = entry.startsWith('group:') ? entry.slice('group:'.length) : undefined;
  if (group !== undefined) {
    if (group === '') return 'names an empty group';
    return tokens.some((t) => t.scope === 'approver' && (t.groups ?? []).includes(group))
      ? undefined
      : `"${entry}": no approver token of the approval token configuration carries group ${group}`;
  }
  const token = tokens.find((t) => t.name === entry);
  if (!token) return `"${entry}" names no token of the approval token configuration`;
  if (token.scope !== 'approver') return `"${entry}" is a ${token.scope} token: it can never decide, so it gets no link`;
  return undefined;
}

function isUploader(token: ApproverToken, uploadedBy: string): boolean {
  return uploadedBy === `token:${token.name}` || (token.ossPrincipals ?? []).some((id) => uploadedBy === `oss:${id}`);
}
