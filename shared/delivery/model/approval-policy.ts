import * as z from 'zod/mini';
import { canonicalJson, sha256Hex } from './canonical.ts';

/**
 * Who may let a step through, and how many must: the approval policy of an `auto: false` deploy
 * step or a suspend step waiting for approval. Written in the Workflow step's `properties.approval`
 * (KubeVela keeps a step's settings in its properties), with defaults from the cluster registry's
 * top-level `approval:` block; a field the step gives wins over the registry's.
 *
 * - `approvers`: token names, or `group:<name>` for every token of that group (the approval
 *   tokens' `groups`); absent means any approver token.
 * - `required`: how many distinct allowed approvers must approve (N of M); `perGroup` adds a
 *   minimum per group (`{ ops: 1 }`: at least one of them is in ops).
 * - The uploader of the release never approves it (their approval is refused and audited).
 * - `timeout`: no decision in that long fails the run (`onTimeout: fail`, the default) or
 *   terminates it (`terminate`); it never approves.
 * - `remindEvery`: while waiting, a reminder goes out at this interval.
 */
export interface ApprovalPolicy {
  approvers?: string[];
  required: number;
  perGroup?: Record<string, number>;
  timeoutMs?: number;
  onTimeout: 'fail' | 'terminate';
  remindEveryMs?: number;
}

/** The approval policy as written (registry or step): every field optional, durations as text. */
const count = z.int().check(z.minimum(1), z.maximum(50));
const duration = z.string().check(z.regex(/^(\d+(?:\.\d+)?(?:h|ms|m|s))+$/, 'must be a duration such as 30s, 10m or 1h30m'));

export const approvalPolicyFieldsSchema = z.strictObject({
  approvers: z.optional(
    z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.minLength(1, 'list at least one approver, or leave approvers out')),
  ),
  required: z.optional(count),
  perGroup: z.optional(z.record(z.string().check(z.minLength(1)), count)),
  timeout: z.optional(duration),
  onTimeout: z.optional(z.enum(['fail', 'terminate'])),
  remindEvery: z.optional(duration),
});

export type ApprovalPolicyFields = z.output<typeof approvalPolicyFieldsSchema>;

const GROUP_PREFIX = 'group:';

/**
 * The step's fields over the registry's defaults. `parseDuration` turns `30m` into milliseconds;
 * returns the policy, or the name of the first field that is wrong and why.
 */
export function resolveApprovalPolicy(
  step: ApprovalPolicyFields | undefined,
  defaults: ApprovalPolicyFields | undefined,
  parseDuration: (text: string) => number | undefined,
): { policy: ApprovalPolicy } | { field: string; message: string } {
  const merged: ApprovalPolicyFields = { ...defaults, ...step };
  const policy: ApprovalPolicy = { required: merged.required ?? 1, onTimeout: merged.onTimeout ?? 'fail' };
  if (merged.approvers !== undefined) policy.approvers = [...merged.approvers];
  if (merged.perGroup !== undefined) policy.perGroup = { ...merged.perGroup };
  for (const field of ['timeout', 'remindEvery'] as const) {
    const text = merged[field];
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined) return { field, message: `"${text}" must be a duration such as 30s, 10m or 1h30m` };
    if (field === 'timeout') policy.timeoutMs = ms;
    else policy.remindEveryMs = ms;
  }
  const perGroupTotal = Object.values(policy.perGroup ?? {}).reduce((a, b) => a + b, 0);
  if (perGroupTotal > policy.required) {
    return { field: 'perGroup', message: `asks for ${perGroupTotal} approvals in groups, more than required (${policy.required})` };
  }
  const names = (policy.approvers ?? []).filter((a) => !a.startsWith(GROUP_PREFIX));
  const groups = (policy.approvers ?? []).filter((a) => a.startsWith(GROUP_PREFIX));
  if (groups.length === 0 && policy.approvers !== undefined && names.length < policy.required) {
    return {
      field: 'required',
      message: `${policy.required} approvals required but only ${names.length} approver${names.length === 1 ? '' : 's'} listed: the step could never pass`,
    };
  }
  return { policy };
}

/** An approver as the decider sees them: the token's name and groups. */
export interface Approver {
  name: string;
  groups: readonly string[];
}

/** Whether `approver` is one of the policy's approvers (by name, or by one of their groups). */
export function isListedApprover(policy: ApprovalPolicy, approver: Approver): boolean {
  if (policy.approvers === undefined) return true;
  return policy.approvers.some((entry) =>
    entry.startsWith(GROUP_PREFIX) ? approver.groups.includes(entry.slice(GROUP_PREFIX.length)) : entry === approver.name,
  );
}

/** Whether the approvals counted so far satisfy the policy: N distinct approvers, and each group's minimum. */
export function approvalsSatisfy(policy: ApprovalPolicy, approvals: readonly Approver[]): boolean {
  if (approvals.length < policy.required) return false;
  for (const [group, minimum] of Object.entries(policy.perGroup ?? {})) {
    if (approvals.filter((a) => a.groups.includes(group)).length < minimum) return false;
  }
  return true;
}

/**
 * The version of the approval policy a decision on a waiting step is made under, for the review
 * digest and the audit: a short SHA-256 of the canonical JSON of the policy the step is held to
 * (its `properties.approval` over the registry's defaults, resolved when the release was rendered;
 * none: any one approver) and of the registry's `approval:` defaults as they are now. A change of
 * either between a page (or a message's links) and the decision changes the version, so the
 * decision is refused (409) and the policy reviewed again.
 */
export function approvalPolicyVersion(policy: ApprovalPolicy | undefined, defaults: ApprovalPolicyFields | undefined): string {
  return `sha256:${sha256Hex(canonicalJson({ policy: policy ?? null, defaults: defaults ?? null })).slice(0, 16)}`;
}
