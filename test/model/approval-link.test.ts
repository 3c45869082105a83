import { describe, expect, it } from 'vitest';
import { linkExpiry, linkRecipients, type ApproverToken } from '#shared/delivery/model/approval-link.ts';
import type { ApprovalPolicy } from '#shared/delivery/model/approval-policy.ts';

/** Who gets a one-time link, and until when: the decider's rules over the approval token configuration. */
const TOKENS: ApproverToken[] = [
  { name: 'ops-lead', scope: 'approver', groups: ['ops', 'release'] },
  { name: 'bob', scope: 'approver' },
  { name: 'uploader', scope: 'approver', groups: ['ops'], ossPrincipals: ['2001'] },
  { name: 'dev', scope: 'approver', groups: ['dev'] },
  { name: 'watcher', scope: 'viewer', groups: ['ops'] },
  { name: 'bob', scope: 'approver' },
];
const policy = (approvers?: string[]): ApprovalPolicy => ({ required: 1, onTimeout: 'fail', ...(approvers ? { approvers } : {}) });

describe('linkRecipients', () => {
  it.each([
    ['names and groups', policy(['group:ops', 'bob']), undefined, ['bob', 'ops-lead', 'uploader']],
    ['a group nobody has', policy(['group:nobody']), undefined, []],
    ['a name without a token', policy(['carol']), undefined, []],
    ['a policy without approvers: every approver token', policy(), undefined, ['bob', 'dev', 'ops-lead', 'uploader']],
    ['the uploader by token name, under a policy', policy(['group:ops']), 'token:uploader', ['ops-lead']],
    ['the uploader by OSS principal, under a policy', policy(), 'oss:2001', ['bob', 'dev', 'ops-lead']],
    ['no policy: any approver decides alone, the uploader too', undefined, 'token:uploader', ['bob', 'dev', 'ops-lead', 'uploader']],
  ] as const)('%s', (_, p, uploadedBy, expected) => {
    expect(linkRecipients(p, TOKENS, uploadedBy)).toEqual(expected);
  });

  it('never a viewer, even one whose group or name is listed', () => {
    expect(linkRecipients(policy(['watcher', 'group:ops']), TOKENS, undefined)).not.toContain('watcher');
  });
});

describe('linkExpiry', () => {
  it('is the TTL from now, capped by the step deadline (its approval timeout)', () => {
    expect(linkExpiry(1_000, 500, undefined)).toBe(1_500);
    expect(linkExpiry(1_000, 500, 1_200)).toBe(1_200);
    expect(linkExpiry(1_000, 500, 9_000)).toBe(1_500);
  });
});
