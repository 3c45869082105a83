import { describe, expect, it } from 'vitest';
import { reviewPage } from '#functions/approval/review-page.ts';
import type { ReviewModel } from '#shared/delivery/approval/review.ts';

/**
 * The review page's decision forms, rendered from a model: one form per waiting step, each naming
 * its step and carrying that step's digest (never a shared one the server would apply to a step it
 * picks), ids unique on the page, and a step name from the bundle escaped wherever it appears.
 */
const HOSTILE = 'gate"><script>alert(1)</script>';

function model(waiting: ReviewModel['waiting']): ReviewModel {
  return {
    app: { namespace: 'demo', name: 'web-demo' },
    run: { id: 'run-1', phase: 'workflowSuspending', publishVersion: 'v1', releaseId: 'rel-1' },
    waiting,
    history: [],
  };
}

const deployStep = (step: string, digest: string): ReviewModel['waiting'][number] => ({
  step,
  digest,
  policyVersion: 'sha256:0123456789abcdef',
  clusters: [
    {
      cluster: `${step}-cluster`,
      objects: [
        {
          ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'demo', name: 'web-demo' },
          action: 'change',
          liveVersion: '7',
          fields: [{ path: 'spec.replicas', before: 2, after: 3, notable: true }],
        },
      ],
    },
  ],
});

const forms = (html: string) =>
  [...html.matchAll(/<form class="decide"[\s\S]*?<\/form>/g)].map(([form]) => ({
    step: /name="step" value="([^"]*)"/.exec(form)?.[1],
    digest: /name="digest" value="([^"]*)"/.exec(form)?.[1],
    textarea: /<textarea id="([^"]+)"/.exec(form)?.[1],
    label: /<label for="([^"]+)"/.exec(form)?.[1],
  }));

const render = (m: ReviewModel, scope: 'approver' | 'viewer' = 'approver') =>
  reviewPage({ model: m, signedInAs: { name: 'carol', scope }, csrf: 'csrf-token', nonce: 'n0nce' });

describe('review page forms', () => {
  it('renders one form per waiting step with its own step, digest and comment id', () => {
    const html = render(model([deployStep('east', 'a'.repeat(64)), deployStep('west', 'b'.repeat(64))]));
    expect(forms(html)).toEqual([
      { step: 'east', digest: 'a'.repeat(64), textarea: 'comment-0', label: 'comment-0' },
      { step: 'west', digest: 'b'.repeat(64), textarea: 'comment-1', label: 'comment-1' },
    ]);
    for (const step of ['east', 'west']) {
      expect(html).toContain(`data-step="${step}"`);
      expect(html).toContain(`data-cluster="${step}-cluster"`);
      expect(html).toContain(`Reject ${step}`);
    }
  });

  it('offers a suspend step waiting for approval (no clusters) a form too, saying it deploys nothing', () => {
    const html = render(model([{ step: 'sign-off', digest: 'c'.repeat(64), policyVersion: 'sha256:0123456789abcdef', clusters: [] }]));
    expect(forms(html)).toEqual([{ step: 'sign-off', digest: 'c'.repeat(64), textarea: 'comment-0', label: 'comment-0' }]);
    expect(html).toContain('it deploys nothing');
  });

  it('gives a viewer the diffs of every waiting step and no form', () => {
    const html = render(model([deployStep('east', 'a'.repeat(64)), deployStep('west', 'b'.repeat(64))]), 'viewer');
    expect(forms(html)).toEqual([]);
    expect(html).not.toContain('name="digest"');
    expect(html).toContain('data-cluster="west-cluster"');
    expect(html.match(/viewer token/g)).toHaveLength(1);
  });

  it('escapes a hostile step name in the heading, the form value and the buttons', () => {
    const html = render(model([deployStep(HOSTILE, 'd'.repeat(64))]));
    expect(html).not.toContain('<script>alert(1)');
    expect(forms(html)[0]?.step).toBe('gate&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Waiting for approval: step gate&quot;&gt;&lt;script&gt;');
  });

  it('says nothing waits when no step waits, with no form', () => {
    const html = render(model([]));
    expect(forms(html)).toEqual([]);
    expect(html).toContain('Nothing waits for a decision.');
  });
});
