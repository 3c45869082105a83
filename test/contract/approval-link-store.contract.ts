import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApprovalLink } from '#shared/delivery/model/approval-link.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';

/**
 * What every ApprovalLinkStore must do: `describeApprovalLinkStoreContract('sqlite', () => ...)`.
 * `make` returns a fresh, empty store and a second handle on the same data (another connection,
 * another adapter instance), so that concurrent consumes really come from two writers.
 */
const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

const link = (token: string, overrides: Partial<ApprovalLink> = {}): ApprovalLink => ({
  hash: hashOf(token),
  app: { namespace: 'demo', name: 'web-demo' },
  runId: 'run-1',
  step: 'deploy-rest',
  recipient: 'alice',
  digest: 'd'.repeat(64),
  policyVersion: 'any-approver/1',
  createdAt: 1_000,
  expiresAt: 10_000,
  ...overrides,
});

export function describeApprovalLinkStoreContract(
  label: string,
  make: () => Promise<{ store: ApprovalLinkStore; second: ApprovalLinkStore }>,
): void {
  describe(`ApprovalLinkStore contract: ${label}`, () => {
    it('creates a link once and reads it back as stored; an unknown hash reads as undefined', async () => {
      const { store, second } = await make();
      const a = link('token-a');
      expect(await store.put(a)).toBe(true);
      expect(await store.put({ ...a, recipient: 'mallory', expiresAt: 99_999 })).toBe(false);
      expect(await second.put(a)).toBe(false);
      expect(await store.get(a.hash)).toEqual(a);
      expect(await second.get(a.hash)).toEqual(a);
      expect(await store.get(hashOf('token-b'))).toBeUndefined();
    });

    it('consumes a link once: the next consume finds it used, with when', async () => {
      const { store, second } = await make();
      const a = link('token-a');
      await store.put(a);
      expect(await store.consume(a.hash, 2_000)).toEqual({ outcome: 'consumed', link: { ...a, consumedAt: 2_000 } });
      expect(await store.consume(a.hash, 2_001)).toEqual({ outcome: 'used', link: { ...a, consumedAt: 2_000 } });
      expect(await second.consume(a.hash, 2_002)).toEqual({ outcome: 'used', link: { ...a, consumedAt: 2_000 } });
      expect(await store.get(a.hash)).toEqual({ ...a, consumedAt: 2_000 });
    });

    it('of concurrent consumes from two writers, exactly one wins', async () => {
      const { store, second } = await make();
      const a = link('token-race');
      await store.put(a);
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? store : second).consume(a.hash, 3_000 + i)));
      expect(results.filter((r) => r.outcome === 'consumed')).toHaveLength(1);
      expect(results.filter((r) => r.outcome === 'used')).toHaveLength(7);
      const winner = results.find((r) => r.outcome === 'consumed');
      expect((await store.get(a.hash))?.consumedAt).toBe(winner && 'link' in winner ? winner.link.consumedAt : -1);
    });

    it('an expired link is never consumed, at its expiry or after', async () => {
      const { store } = await make();
      const a = link('token-old', { expiresAt: 5_000 });
      await store.put(a);
      expect(await store.consume(a.hash, 5_000)).toEqual({ outcome: 'expired', link: a });
      expect(await store.consume(a.hash, 50_000)).toEqual({ outcome: 'expired', link: a });
      expect(await store.get(a.hash)).toEqual(a);
    });

    it('consuming an unknown hash creates nothing', async () => {
      const { store } = await make();
      const hash = hashOf('never-minted');
      expect(await store.consume(hash, 2_000)).toEqual({ outcome: 'unknown' });
      expect(await store.get(hash)).toBeUndefined();
    });

    it('a put cannot revive a used link, and links are independent of each other', async () => {
      const { store } = await make();
      const a = link('token-a');
      const b = link('token-b', { recipient: 'bob' });
      await store.put(a);
      await store.put(b);
      await store.consume(a.hash, 2_000);
      expect(await store.put(a)).toBe(false);
      expect(await store.consume(a.hash, 2_500)).toMatchObject({ outcome: 'used' });
      expect(await store.consume(b.hash, 2_500)).toEqual({ outcome: 'consumed', link: { ...b, consumedAt: 2_500 } });
    });
  });
}
