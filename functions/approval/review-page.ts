import type { ReviewModel, WaitingStep } from '#shared/delivery/approval/review.ts';
import type { FieldChange, ObjectPreview } from '#shared/delivery/model/preview.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { refKey } from '#shared/delivery/model/kube.ts';

/**
 * The review page's HTML: server-rendered, no external assets, readable without JavaScript (the
 * one script only keeps the reject button off until a comment is written), one column that fits a
 * 390 px phone. Every value is escaped; style and script run under the response's CSP nonce.
 */

const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const when = (at: number): string =>
  new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

export const reviewPath = (app: AppRef, tail = ''): string =>
  `/apps/${encodeURIComponent(app.namespace)}/${encodeURIComponent(app.name)}/review${tail}`;

const STYLE = `
*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1f24;background:#fff}
h1{font-size:1.3rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin:1rem 0 .3rem}
.muted{color:#57606a}.bad{color:#b42318}.good{color:#1a7f37}.tag{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-size:.8rem;font-weight:600}
.add{background:#dafbe1}.change{background:#fff8c5}.prune{background:#ffebe9}.same{background:#eaeef2}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .4rem;border-bottom:1px solid #eaeef2;vertical-align:top}
code,pre{font:13px/1.4 ui-monospace,monospace;overflow-wrap:anywhere;word-break:break-word;white-space:pre-wrap}
ul.fields{list-style:none;padding-left:.4rem;margin:.2rem 0}ul.fields li{margin:.15rem 0}.notable{background:#fff1c2;font-weight:600}
form.decide{border:1px solid #d0d7de;border-radius:.4rem;padding:.8rem;margin-top:1rem}textarea,input[type=password]{width:100%;font:inherit;padding:.4rem}
button{font:inherit;padding:.5rem 1rem;margin:.4rem .4rem 0 0;border-radius:.3rem;border:1px solid #8c959f;cursor:pointer}
button.approve{background:#1f883d;color:#fff;border-color:#1a7f37}button.reject{background:#fff;color:#b42318;border-color:#b42318}
.notice{padding:.6rem;border-radius:.3rem;background:#ddf4ff;margin:.5rem 0}.notice.error{background:#ffebe9}
header{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem;align-items:baseline}header form{margin:0}
`;

// Keeps reject off until a comment is written; the server refuses an empty one anyway.
const SCRIPT = `
for (const form of document.querySelectorAll('form.decide')) {
  const comment = form.querySelector('textarea'); const reject = form.querySelector('button.reject');
  const sync = () => { reject.disabled = comment.value.trim() === ''; };
  comment.addEventListener('input', sync); sync();
}`;

function layout(title: string, nonce: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head>
<body>${body}<script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}

export function signInPage(app: AppRef, nonce: string, error?: string): string {
  return layout(
    `Sign in: ${app.namespace}/${app.name}`,
    nonce,
    `<h1>Review ${escapeHtml(`${app.namespace}/${app.name}`)}</h1>
${error ? `<p class="notice error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(reviewPath(app, '/session'))}">
<label for="token">Approver or viewer token</label><input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button></form>
<p class="muted">The token signs you in to this browser only (a cookie that expires in 8 hours); it is not stored.</p>`,
  );
}

export function messagePage(title: string, text: string, nonce: string, app?: AppRef): string {
  return layout(
    title,
    nonce,
    `<h1>${escapeHtml(title)}</h1><p class="notice error" role="alert">${escapeHtml(text)}</p>${
      app ? `<p><a href="${escapeHtml(reviewPath(app))}">Review again</a></p>` : ''
    }`,
  );
}

function value(v: unknown): string {
  return `<code>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</code>`;
}

function fieldLine(field: FieldChange): string {
  const change =
    field.before === undefined
      ? `= ${value(field.after)}`
      : field.after === undefined
        ? `removed (was ${value(field.before)})`
        : `${value(field.before)} → ${value(field.after)}`;
  return `<li${field.notable ? ' class="notable"' : ''}><code>${escapeHtml(field.path)}</code> ${change}</li>`;
}

const MAX_FIELDS_SHOWN = 60;

function objectBlock(object: ObjectPreview): string {
  const notable = object.fields.filter((f) => f.notable);
  const rest = object.fields.filter((f) => !f.notable).slice(0, MAX_FIELDS_SHOWN);
  const more = object.fields.length - notable.length - rest.length;
  const list = (fields: FieldChange[]) => (fields.length > 0 ? `<ul class="fields">${fields.map(fieldLine).join('')}</ul>` : '');
  // A new object's every field is new: its images and replicas show, the rest folds (readable without script).
  const others =
    rest.length === 0
      ? ''
      : object.action === 'add'
        ? `<details><summary class="muted">${rest.length + more} more fields</summary>${list(rest)}</details>`
        : list(rest);
  return `<li><span class="tag ${object.action}">${object.action}</span> <code>${escapeHtml(refKey(object.ref))}</code>${list(notable)}${others}${
    more > 0 ? `<p class="muted">… ${more} more fields not shown</p>` : ''
  }</li>`;
}

function counts(objects: ObjectPreview[]): string {
  const by = (action: ObjectPreview['action']) => objects.filter((o) => o.action === action).length;
  return `${by('add')} added, ${by('change')} changed, ${by('prune')} pruned, ${by('same')} unchanged`;
}

/**
 * One waiting step: its clusters' diffs and, for an approver, its own decision form. The form names
 * its step and carries that step's digest, so with two sub-steps waiting a decision is always for
 * the one whose diff was shown, never one the server picks.
 */
function waitingBlock(model: ReviewModel, waiting: WaitingStep, index: number, signedInAs: ReviewView['signedInAs'], csrf: string): string {
  const parts: string[] = [];
  parts.push(
    `<section class="waiting" data-step="${escapeHtml(waiting.step)}"><h2>Waiting for approval: step ${escapeHtml(waiting.step)}</h2>`,
  );
  if (waiting.clusters.length === 0) parts.push('<p class="muted">A suspend step: it deploys nothing, it only waits for a decision.</p>');
  for (const cluster of waiting.clusters) {
    const notable = cluster.objects.flatMap((o) => o.fields.filter((f) => f.notable).map((f) => ({ o, f })));
    parts.push(`<section class="cluster" data-cluster="${escapeHtml(cluster.cluster)}"><h3>Cluster ${escapeHtml(cluster.cluster)}</h3>`);
    if (cluster.error) parts.push(`<p class="bad">No diff: ${escapeHtml(cluster.error)}</p>`);
    else {
      parts.push(`<p class="muted">${counts(cluster.objects)} (server-side dry run against the live state)</p>`);
      if (notable.length > 0)
        parts.push(
          `<p><strong>Images and replicas:</strong></p><ul class="fields">${notable.map(({ o, f }) => fieldLine({ ...f, path: `${o.ref.kind} ${o.ref.name}: ${f.path}` })).join('')}</ul>`,
        );
      parts.push(`<ul class="objects">${cluster.objects.map(objectBlock).join('')}</ul>`);
    }
    parts.push('</section>');
  }
  if (signedInAs.scope === 'approver') {
    const comment = `comment-${index}`;
    parts.push(`<form class="decide" method="post" action="${escapeHtml(reviewPath(model.app, '/decision'))}">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="step" value="${escapeHtml(waiting.step)}"><input type="hidden" name="digest" value="${escapeHtml(waiting.digest)}">
<label for="${comment}">Comment (required to reject)</label><textarea id="${comment}" name="comment" rows="2" maxlength="2000"></textarea>
<button class="approve" type="submit" name="action" value="approve">Approve ${escapeHtml(waiting.step)}</button>
<button class="reject" type="submit" name="action" value="reject">Reject ${escapeHtml(waiting.step)}</button>
<p class="muted">Your decision is bound to what this page shows of step ${escapeHtml(waiting.step)} (digest <code>${escapeHtml(waiting.digest.slice(0, 12))}</code>, policy ${escapeHtml(waiting.policyVersion)}): if a cluster changed since, you will be asked to review again.</p></form>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

export interface ReviewView {
  model: ReviewModel;
  signedInAs: { name: string; scope: 'viewer' | 'approver' };
  csrf: string;
  nonce: string;
}

export function reviewPage({ model, signedInAs, csrf, nonce }: ReviewView): string {
  const { app, run, waiting, previous, history } = model;
  const title = `${app.namespace}/${app.name}`;
  const parts: string[] = [];
  parts.push(`<header><h1>Review ${escapeHtml(title)}</h1>
<form method="post" action="${escapeHtml(reviewPath(app, '/signout'))}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<span class="muted">${escapeHtml(signedInAs.name)} (${signedInAs.scope})</span> <button type="submit">Sign out</button></form></header>`);
  parts.push(
    run
      ? `<p>Run <code>${escapeHtml(run.id)}</code>, publishVersion <code>${escapeHtml(run.publishVersion)}</code>: <strong id="phase">${escapeHtml(run.phase)}</strong>${
          run.reason ? ` <span class="muted">(${escapeHtml(run.reason)})</span>` : ''
        }</p>`
      : '<p>No run yet.</p>',
  );

  for (const [index, step] of waiting.entries()) parts.push(waitingBlock(model, step, index, signedInAs, csrf));
  if (waiting.length > 0 && signedInAs.scope !== 'approver')
    parts.push('<p class="muted">Signed in with a viewer token: you can see, not decide.</p>');
  else if (waiting.length === 0 && run) parts.push('<p class="muted">Nothing waits for a decision.</p>');

  if (previous) {
    parts.push(`<h2>Previous step: ${escapeHtml(previous.step)}</h2><div class="scroll"><table><tr><th>Cluster</th><th>Health</th></tr>`);
    for (const c of previous.clusters) {
      const unhealthy = c.objects.filter((o) => !o.healthy).map((o) => `${o.ref.kind} ${o.ref.name}: ${o.reason ?? 'not healthy'}`);
      parts.push(
        `<tr><td>${escapeHtml(c.cluster)}</td><td class="${c.healthy ? 'good' : 'bad'}">${
          c.error ? escapeHtml(c.error) : c.healthy ? `healthy (${c.objects.length} objects)` : escapeHtml(unhealthy.join('; '))
        }</td></tr>`,
      );
    }
    parts.push('</table></div>');
  }

  parts.push('<h2>Run history</h2><div class="scroll"><table><tr><th>Run</th><th>Phase</th><th>Decisions</th></tr>');
  for (const r of history) {
    const decisions = r.decisions
      .map(
        (d) =>
          `${escapeHtml(d.kind)}${d.outcome ? ` (${escapeHtml(d.outcome)})` : ''} by <strong>${escapeHtml(d.by)}</strong> ${escapeHtml(when(d.at))}${d.step ? ` (${escapeHtml(d.step)})` : ''}${
            d.audit
              ? ` <span class="muted">via ${escapeHtml(d.audit.channel)}${d.audit.source ? ` from ${escapeHtml(d.audit.source)}` : ''}${d.audit.digest ? `, digest ${escapeHtml(d.audit.digest.slice(0, 12))}` : ''}${d.audit.policyVersion ? `, policy ${escapeHtml(d.audit.policyVersion)}` : ''}</span>`
              : ''
          }${d.comment ? `: “${escapeHtml(d.comment)}”` : ''}`,
      )
      .join('<br>');
    parts.push(
      `<tr><td><code>${escapeHtml(r.publishVersion)}</code><br><span class="muted">${escapeHtml(when(r.createdAt))}</span></td><td>${escapeHtml(r.phase)}</td><td>${decisions || '<span class="muted">none</span>'}</td></tr>`,
    );
  }
  parts.push('</table></div>');
  return layout(`Review ${title}`, nonce, parts.join('\n'));
}
