import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import type { Decision } from '#shared/delivery/workflow/run.ts';
import type { RejectedUpload } from '#shared/delivery/model/records.ts';
import { terminalSafe } from './terminal-text.ts';

/**
 * Human views of an application's status, shared by `tricenter status` and the `npm start` narration.
 * Every value from the server is escaped (terminal-text.ts): a cell or line can never hold a control character.
 */

export function table(rows: string[][]): string {
  const safe = rows.map((row) => row.map(terminalSafe));
  const widths: number[] = [];
  for (const row of safe) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return safe.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('   ')).join('\n');
}

/** The decision audit of runs as the API lists them (newest run first): one line per decision, oldest first within a run. */
export function formatDecisions(runs: Array<{ id?: unknown; decisions?: unknown }>): string {
  const lines: string[] = [];
  for (const run of runs) {
    for (const d of (Array.isArray(run.decisions) ? run.decisions : []) as Decision[]) {
      const audit = d.audit
        ? ` via ${d.audit.channel}${d.audit.source ? ` from ${d.audit.source}` : ''}${d.audit.digest ? ` digest ${d.audit.digest.slice(0, 12)}` : ''}${
            d.audit.policyVersion ? ` policy ${d.audit.policyVersion}` : ''
          }`
        : '';
      lines.push(
        terminalSafe(
          `  ${String(run.id)}  ${new Date(d.at).toISOString()}  ${d.kind}${d.outcome ? ` (${d.outcome})` : ''} by ${d.by}${d.step ? ` on ${d.step}` : ''}${audit}${
            d.comment ? `: ${JSON.stringify(d.comment)}` : ''
          }`,
        ),
      );
    }
  }
  return lines.length > 0 ? `DECISIONS\n${lines.join('\n')}` : '';
}

/** The approval function's review page of an application (GET, signs in with a token). */
export function reviewPageUrl(endpoint: string, app: AppStatus['app']): string {
  return `${endpoint.replace(/\/$/, '')}/apps/${encodeURIComponent(app.namespace)}/${encodeURIComponent(app.name)}/review`;
}

/** With `reviewUrl`, a step waiting for approval names the page to review it on. */
export function formatStatus(status: AppStatus, reviewUrl?: string): string {
  const head = [
    `${status.app.namespace}/${status.app.name}`,
    `phase: ${status.phase}`,
    status.publishVersion ? `publishVersion: ${status.publishVersion}` : undefined,
    status.runId ? `run: ${status.runId}` : undefined,
  ]
    .filter(Boolean)
    .join('   ');
  const parts = [terminalSafe(head)];
  if (status.reason) parts.push(terminalSafe(`reason: ${status.reason}${status.message ? ` (${status.message})` : ''}`));
  // Sub-steps of a step-group may wait at once: each is decided on its own (`--step`, its own form on the page).
  const awaiting = status.steps.filter((s) => s.awaiting === 'approval').map((s) => s.name);
  if (awaiting.length > 0 && reviewUrl) parts.push(terminalSafe(`review ${awaiting.join(', ')}: ${reviewUrl}`));
  if (status.lastFailedIngest)
    parts.push(terminalSafe(`last upload rejected (${status.lastFailedIngest.source.key}): ${status.lastFailedIngest.error}`));
  if (status.rejectedUploads?.length) parts.push('', formatRejectedUploads(status.rejectedUploads));
  if (status.steps.length > 0) {
    parts.push(
      '',
      table([
        ['STEP', 'PHASE', 'APPROVAL', 'CLUSTERS'],
        ...status.steps.map((s) => [
          s.name,
          s.awaiting ? `${s.phase} (${s.awaiting})` : s.phase,
          s.needsApproval ? 'required' : '-',
          s.clusters.map((c) => `${c.cluster}:${c.status}${c.attempt > 1 ? `#${c.attempt}` : ''}`).join(' ') || '-',
        ]),
      ]),
    );
  }
  if (status.clusters.length > 0) parts.push('', formatWorkloads(status));
  const drifted = formatDrift(status);
  if (drifted) parts.push('', drifted);
  return parts.join('\n');
}

/** Objects of the tenant's folder refused for their key: never deployed. */
export function formatRejectedUploads(uploads: RejectedUpload[]): string {
  return table([['REJECTED UPLOAD', 'AT', 'REASON'], ...uploads.map((u) => [u.source.key, new Date(u.at).toISOString(), u.reason])]);
}

/**
 * Like `kubectl amc get deployment -m all`: one row per cluster and Deployment, and the cluster's
 * DRIFT against the current release (`in sync`, `2 drifted`; `-` while a rollout runs or when unreachable).
 */
export function formatWorkloads(status: AppStatus): string {
  const rows = [['CLUSTER', 'NAMESPACE', 'NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'DRIFT']];
  for (const cluster of status.clusters) {
    const drift = !cluster.drift ? '-' : cluster.drift.objects.length === 0 ? 'in sync' : `${cluster.drift.objects.length} drifted`;
    if (!cluster.reachable) rows.push([cluster.cluster, '-', '-', 'unreachable', '-', '-', '-']);
    else if (cluster.workloads.length === 0) rows.push([cluster.cluster, '-', '(none yet)', '-', '-', '-', drift]);
    for (const w of cluster.workloads)
      rows.push([cluster.cluster, w.namespace ?? '-', w.name, w.ready, String(w.upToDate), String(w.available), drift]);
  }
  return table(rows);
}

/** Each drifted object now, then what the sweep last did about drift; '' when there is neither. */
function formatDrift(status: AppStatus): string {
  const parts: string[] = [];
  const now = status.clusters.flatMap((c) =>
    (c.drift?.objects ?? []).map((o) => [c.cluster, o.object, o.state, o.fields?.join(', ') ?? '-']),
  );
  if (now.length > 0) parts.push(table([['CLUSTER', 'DRIFTED OBJECT', 'STATE', 'FIELDS'], ...now]));
  const events = status.driftEvents ?? [];
  if (events.length > 0) {
    if (parts.length > 0) parts.push('');
    parts.push(
      table([
        ['DRIFT AT', 'CLUSTER', 'OBJECT', 'ACTION', 'REASON'],
        ...events.map((e) => [new Date(e.at).toISOString(), e.cluster, e.object, e.action, e.reason]),
      ]),
    );
  }
  return parts.join('\n');
}
