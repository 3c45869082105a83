import { describe, expect, it } from 'vitest';
import { approvalPolicyVersion, type ApprovalPolicy } from '#shared/delivery/model/approval-policy.ts';

/** The policy version a decision is bound to: the same policy and defaults give the same version, any change another. */
const POLICY: ApprovalPolicy = {
  approvers: ['group:ops', 'bob'],
  required: 2,
  perGroup: { ops: 1 },
  onTimeout: 'fail',
  timeoutMs: 3_600_000,
};

describe('approvalPolicyVersion', () => {
  it('is a short SHA-256, the same whatever order the fields were written in', () => {
    const version = approvalPolicyVersion(POLICY, { required: 2 });
    expect(version).toMatch(/^sha256:[0-9a-f]{16}$/);
    const reordered: ApprovalPolicy = {
      timeoutMs: 3_600_000,
      onTimeout: 'fail',
      perGroup: { ops: 1 },
      required: 2,
      approvers: ['group:ops', 'bob'],
    };
    expect(approvalPolicyVersion(reordered, { required: 2 })).toBe(version);
  });

  it('changes with the step’s policy and with the registry’s defaults, and tells none from an empty one', () => {
    const versions = [
      approvalPolicyVersion(POLICY, undefined),
      approvalPolicyVersion({ ...POLICY, required: 1 }, undefined),
      approvalPolicyVersion({ ...POLICY, approvers: ['bob', 'group:ops'] }, undefined),
      approvalPolicyVersion(POLICY, { required: 2 }),
      approvalPolicyVersion(POLICY, { timeout: '4h' }),
      approvalPolicyVersion(undefined, undefined),
      approvalPolicyVersion(undefined, {}),
    ];
    expect(new Set(versions).size).toBe(versions.length);
  });
});
