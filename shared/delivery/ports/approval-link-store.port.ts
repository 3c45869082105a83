import type { ApprovalLink, ConsumeOutcome } from '../model/approval-link.ts';

/**
 * Where one-time approval links are kept (model/approval-link.ts): by the SHA-256 of their token,
 * never the token. Apart from the RunStore: a link's writes never conflict with the run's.
 * Both writes are conditional, as every state write is.
 */
export interface ApprovalLinkStore {
  /** Stores a new link; false (and nothing written) when one with that hash exists. */
  put(link: ApprovalLink): Promise<boolean>;
  /** The link as stored, consumed or not; undefined when unknown. */
  get(hash: string): Promise<ApprovalLink | undefined>;
  /**
   * Marks the link used at `now`, only if it is not used yet and not expired at `now`: of any
   * number of concurrent callers exactly one gets `consumed`; the others `used`.
   */
  consume(hash: string, now: number): Promise<ConsumeOutcome>;
}
