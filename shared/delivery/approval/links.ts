import { LINK_TOKEN, type ApprovalLink } from '../model/approval-link.ts';
import type { AppRef } from '../model/ownership.ts';
import type { ApprovalLinkStore } from '../ports/approval-link-store.port.ts';
import type { WorkflowDeps } from '../usecases/deps.ts';
import { linkHash, type StepPreview } from '../usecases/notify.ts';
import type { Run } from '../workflow/run.ts';
import { principalOf, type ApprovalAuthConfig } from './auth.ts';
import { decideThroughApi, deciderOf } from './decisions.ts';
import { reviewOf, type WaitingStep } from './review.ts';

/**
 * One-time approval links (model/approval-link.ts) on the approval function's side: opening one
 * (what the confirm page shows; it consumes nothing) and deciding through one (consume by the
 * store's conditional write, then the same decision path as the page and the API, as the link's
 * recipient, channel `link`). Refusals carry their HTTP status: 404 unknown, 410 used, expired or
 * no longer needed, 409 the step's diff changed since the link was sent, 403 not allowed.
 */
export interface LinkDeps extends WorkflowDeps {
  links: ApprovalLinkStore;
  auth: ApprovalAuthConfig;
}

export class LinkRefused extends Error {
  constructor(
    readonly status: 403 | 404 | 409 | 410,
    message: string,
  ) {
    super(message);
  }
}

export interface OpenLink {
  link: ApprovalLink;
  waiting: WaitingStep;
  publishVersion: string;
}

const iso = (at: number): string => new Date(at).toISOString();

/** The waiting step's preview as messages summarise it (notify's `preview`): the review model's, for one step. */
export async function stepPreviewOf(deps: WorkflowDeps, app: AppRef, step: string): Promise<StepPreview | undefined> {
  const model = await reviewOf(deps, app);
  const waiting = model?.waiting.find((w) => w.step === step);
  if (!model?.run || !waiting) return undefined;
  return { runId: model.run.id, step, digest: waiting.digest, policyVersion: waiting.policyVersion, clusters: waiting.clusters };
}

/**
 * The link a token opens, if it may still decide: known, not used, not expired, its run's step
 * still waiting, and what it would change the same as when the link was sent. Reads only.
 */
export async function openLink(deps: LinkDeps, token: string): Promise<OpenLink> {
  const link = LINK_TOKEN.test(token) ? await deps.links.get(linkHash(token)) : undefined;
  if (!link) throw new LinkRefused(404, 'there is no such link (mistyped, or not one this system sent)');
  const now = deps.clock.now();
  if (link.consumedAt !== undefined) throw new LinkRefused(410, `this link was used at ${iso(link.consumedAt)}: each link decides once`);
  if (link.expiresAt <= now) throw new LinkRefused(410, `this link expired at ${iso(link.expiresAt)}`);
  const model = await reviewOf(deps, link.app);
  const waiting = model?.run?.id === link.runId ? model.waiting.find((w) => w.step === link.step) : undefined;
  if (!model?.run || !waiting) {
    throw new LinkRefused(
      410,
      `step ${link.step} of run ${link.runId} no longer waits for approval (decided, timed out, or a newer run started): nothing to decide`,
    );
  }
  if (waiting.policyVersion !== link.policyVersion) {
    throw new LinkRefused(
      409,
      'the approval policy of this step (or the registry’s approval defaults) changed since the message was sent: nothing was decided, review it again',
    );
  }
  if (waiting.digest !== link.digest) {
    throw new LinkRefused(
      409,
      'what the step would change is not what the message showed (the release, a cluster or its live state changed since): nothing was decided, review it again',
    );
  }
  return { link, waiting, publishVersion: model.run.publishVersion };
}

/**
 * Decides through a link, once: checks it as `openLink` does, consumes it (of concurrent
 * requests exactly one gets on), then decides as its recipient with their groups and identities
 * as configured now. A recipient the step's policy refuses is refused by the decider, recorded on
 * the run (the audit) and answered 403; the link is spent either way.
 */
export async function decideByLink(
  deps: LinkDeps,
  token: string,
  input: { action: 'approve' | 'reject'; comment?: string; source?: string },
): Promise<{ link: ApprovalLink; run: Run }> {
  const { link } = await openLink(deps, token);
  const consumed = await deps.links.consume(link.hash, deps.clock.now());
  if (consumed.outcome !== 'consumed') {
    throw new LinkRefused(
      410,
      consumed.outcome === 'expired' ? 'this link has just expired' : 'this link was used meanwhile: each link decides once',
    );
  }
  const log = deps.logger.child({ runId: link.runId });
  const holder = deps.auth.tokens.find((t) => t.name === link.recipient);
  if (holder?.scope !== 'approver') {
    log.warn('link decision refused: its recipient holds no approver token now', { recipient: link.recipient, step: link.step });
    throw new LinkRefused(403, `${link.recipient} holds no approver token any more: nothing was decided`);
  }
  const run = await decideThroughApi(deps, {
    app: link.app,
    action: input.action,
    ...deciderOf(principalOf(holder)),
    step: link.step,
    ...(input.comment ? { comment: input.comment } : {}),
    // One decision per link: a retry after a lost answer is recorded once.
    requestId: `link-${link.hash.slice(0, 32)}`,
    audit: {
      channel: 'link',
      digest: link.digest,
      policyVersion: link.policyVersion,
      ...(input.source ? { source: input.source } : {}),
    },
  });
  log.info('decision through a one-time link', { action: input.action, by: link.recipient, step: link.step, digest: link.digest });
  return { link, run };
}
