import { createHmac } from 'node:crypto';
import { TricenterError } from '../../../platform/errors.ts';
import { signRequest } from '../../model/request-signature.ts';
import type { Notification, Notifier } from '../../ports/notifier.port.ts';

/**
 * Notifier adapters over HTTPS webhooks. Secrets and webhook URLs (whose access tokens are secrets
 * too) stay inside the adapter: `name` is all a log ever sees, and a refusal's error names the
 * channel and the status, never the URL.
 *
 * - DingTalk custom robot (signed): `?timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(key: secret,
 *   message: "<timestamp>\n<secret>")))>` on the webhook URL; body `{msgtype: "markdown", ...}`. DingTalk
 *   answers 200 with `errcode` 0 on success.
 * - Feishu custom bot (signed): body `{timestamp: "<seconds>", sign: base64(HMAC-SHA256(key:
 *   "<timestamp>\n<secret>", message: "")), msg_type: "text", ...}`; Feishu answers 200 with `code` 0.
 * - Generic webhook: JSON body signed like the approval API (`X-Tricenter-Timestamp`,
 *   `X-Tricenter-Signature: v1=<hex HMAC-SHA256 over "<timestamp>.POST.<path>.<body>">`).
 */
export interface WebhookNotifierOptions {
  name: string;
  url: string;
  secret: string;
  now: () => number;
  /** Whose one-time links the channel carries (Notifier.recipients); absent: none. */
  recipients?: readonly string[];
  /** Per request (default 5 s). */
  timeoutMs?: number;
}

function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

const TITLES: Record<Notification['kind'], string> = {
  'waiting-for-approval': 'Waiting for approval',
  reminder: 'Still waiting for approval',
  approved: 'Approved',
  rejected: 'Rejected',
  'timed-out': 'Approval timed out',
  succeeded: 'Run succeeded',
  failed: 'Run failed',
  terminated: 'Run terminated',
};

/** The message as plain lines: title, application and release, step and clusters, summary, the diff per cluster, links. */
function messageLines(n: Notification): string[] {
  const lines = [`${TITLES[n.kind]}: ${n.app.namespace}/${n.app.name}`, `release ${n.publishVersion} (run ${n.runId})`];
  if (n.step) lines.push(`step ${n.step}${n.clusters && n.clusters.length > 0 ? ` on ${n.clusters.join(', ')}` : ''}`);
  lines.push(n.summary);
  for (const d of n.diff ?? []) {
    lines.push(
      d.error
        ? `${d.cluster}: no diff (${d.error})`
        : `${d.cluster}: ${d.added} added, ${d.changed} changed, ${d.pruned} pruned${d.notable.length > 0 ? `; ${d.notable.join('; ')}` : ''}`,
    );
  }
  if (n.diffUnavailable) lines.push(`diff: ${n.diffUnavailable}`);
  if (n.link) lines.push(`review: ${n.link}`);
  for (const l of n.links ?? []) lines.push(`${l.recipient}, decide once (until ${new Date(l.expiresAt).toISOString()}): ${l.url}`);
  return lines;
}

async function post(name: string, url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // The cause may carry the URL (an access token): only its kind goes into the message.
    const kind = err instanceof Error ? err.name : 'error';
    throw new TricenterError('UNREACHABLE', `notifier ${name}: the webhook could not be reached (${kind})`, { retryable: true });
  }
  const text = await response.text();
  if (!response.ok) {
    throw new TricenterError('UNREACHABLE', `notifier ${name}: the webhook answered ${response.status}`, {
      retryable: response.status >= 500 || response.status === 429,
    });
  }
  return text;
}

/** A robot answering 200 with an error code in the body (wrong signature, keyword filter, rate limit). */
function checkRobotAnswer(name: string, text: string, field: 'errcode' | 'code'): void {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new TricenterError('UNREACHABLE', `notifier ${name}: the robot's answer is not JSON`, { retryable: true });
  }
  const code = parsed[field];
  if (code !== undefined && code !== 0) {
    const message = typeof parsed.errmsg === 'string' ? parsed.errmsg : typeof parsed.msg === 'string' ? parsed.msg : '';
    throw new TricenterError(
      'UNREACHABLE',
      `notifier ${name}: the robot refused the message (${field} ${String(code)}: ${message.slice(0, 200)})`,
      {
        retryable: false,
      },
    );
  }
}

export class DingTalkNotifier implements Notifier {
  readonly name: string;
  readonly recipients?: readonly string[];
  constructor(private readonly options: WebhookNotifierOptions) {
    this.name = options.name;
    if (options.recipients) this.recipients = options.recipients;
  }

  async send(notification: Notification): Promise<void> {
    const timestamp = this.options.now();
    const url = new URL(this.options.url);
    url.searchParams.set('timestamp', String(timestamp));
    url.searchParams.set('sign', dingTalkSign(this.options.secret, timestamp));
    const lines = messageLines(notification);
    const body = JSON.stringify({ msgtype: 'markdown', markdown: { title: lines[0], text: lines.map((l) => `- ${l}`).join('\n') } });
    const text = await post(this.name, url.toString(), body, {}, this.options.timeoutMs ?? 5000);
    checkRobotAnswer(this.name, text, 'errcode');
  }
}

export class FeishuNotifier implements Notifier {
  readonly name: string;
  readonly recipients?: readonly string[];
  constructor(private readonly options: WebhookNotifierOptions) {
    this.name = options.name;
    if (options.recipients) this.recipients = options.recipients;
  }

  async send(notification: Notification): Promise<void> {
    const timestamp = Math.floor(this.options.now() / 1000);
    const body = JSON.stringify({
      timestamp: String(timestamp),
      sign: feishuSign(this.options.secret, timestamp),
      msg_type: 'text',
      content: { text: messageLines(notification).join('\n') },
    });
    const text = await post(this.name, this.options.url, body, {}, this.options.timeoutMs ?? 5000);
    checkRobotAnswer(this.name, text, 'code');
  }
}

export class SignedWebhookNotifier implements Notifier {
  readonly name: string;
  readonly recipients?: readonly string[];
  constructor(private readonly options: WebhookNotifierOptions) {
    this.name = options.name;
    if (options.recipients) this.recipients = options.recipients;
  }

  async send(notification: Notification): Promise<void> {
    const timestamp = this.options.now();
    const body = JSON.stringify({ ...notification, text: messageLines(notification).join('\n') });
    const url = new URL(this.options.url);
    const headers = {
      'x-tricenter-timestamp': String(timestamp),
      'x-tricenter-signature': signRequest(this.options.secret, timestamp, 'POST', url.pathname, body),
    };
    await post(this.name, this.options.url, body, headers, this.options.timeoutMs ?? 5000);
  }
}
