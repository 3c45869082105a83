import * as z from 'zod/mini';
import { TricenterError } from '../../../platform/errors.ts';
import { channelRecipientProblem, MAX_LINK_TTL_MS, type ApproverToken } from '../../model/approval-link.ts';
import type { Notifier } from '../../ports/notifier.port.ts';
import { DingTalkNotifier, FeishuNotifier, SignedWebhookNotifier } from './webhook-notifiers.ts';

/**
 * The notification channels of a deployment, from configuration (TRICENTER_NOTIFIERS, a JSON list):
 *   [{"type": "dingtalk", "name": "ops", "url": "https://oapi.dingtalk.com/robot/send?access_token=...", "secret": "SEC..."},
 *    {"type": "feishu", "name": "dev", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/...", "secret": "..."},
 *    {"type": "webhook", "name": "audit", "url": "https://hooks.example.com/tricenter", "secret": "..."},
 *    {"type": "dingtalk", "name": "alice", "url": "...", "secret": "...", "recipients": ["alice"]}]
 * `recipients` (token names, `group:<name>`) says whose one-time approval links the channel carries:
 * only a channel its recipients alone read should carry any (a robot in a one-person group, a
 * per-person inbox). Without it the channel gets the page link only. Each entry must name an
 * approver token, or a group an approver token carries, of the approval token configuration.
 * A bad entry is refused naming its index and field, never echoing a URL or secret.
 */
const entrySchema = z.strictObject({
  type: z.enum(['dingtalk', 'feishu', 'webhook']),
  name: z.string().check(z.regex(/^[a-z0-9][-a-z0-9]{0,62}$/)),
  url: z.string().check(z.regex(/^https?:\/\/[^\s]+$/)),
  secret: z.string().check(z.minLength(16)),
  recipients: z.optional(
    z
      .array(z.string().check(z.minLength(1), z.maxLength(100)))
      .check(z.minLength(1, 'list at least one recipient, or leave recipients out')),
  ),
});

/**
 * `tokens` is the approval token configuration the recipients are checked against (and expanded
 * through when links are minted).
 */
export function parseNotifierConfig(
  text: string,
  now: () => number,
  tokens: readonly ApproverToken[] = [],
  source = 'TRICENTER_NOTIFIERS',
): Notifier[] {
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TricenterError('VALIDATION', `${source}: not JSON (expected a list of {type, name, url, secret})`);
  }
  const parsed = z.array(entrySchema).safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
    // The issue's message only, never the input: a URL or secret must not reach a log.
    throw new TricenterError(
      'VALIDATION',
      `${source}${where}: ${issue?.code === 'invalid_format' ? 'malformed' : (issue?.message ?? 'invalid')}`,
    );
  }
  const names = new Set<string>();
  return parsed.data.map((entry, i) => {
    if (names.has(entry.name)) throw new TricenterError('VALIDATION', `${source}[${i}].name: "${entry.name}" is used twice`);
    names.add(entry.name);
    for (const [j, recipient] of (entry.recipients ?? []).entries()) {
      const problem = channelRecipientProblem(recipient, tokens);
      if (problem) throw new TricenterError('VALIDATION', `${source}[${i}].recipients[${j}]: ${problem}`);
    }
    const options = {
      name: entry.name,
      url: entry.url,
      secret: entry.secret,
      now,
      ...(entry.recipients ? { recipients: entry.recipients } : {}),
    };
    if (entry.type === 'dingtalk') return new DingTalkNotifier(options);
    if (entry.type === 'feishu') return new FeishuNotifier(options);
    return new SignedWebhookNotifier(options);
  });
}

const DURATION = /^(\d+)(h|m|s)/;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };

/**
 * TRICENTER_APPROVAL_LINK_TTL, the one place it is read (the cloud's functions and the twin): how
 * long a one-time approval link lives, such as `8h` or `1h30m`; empty means the default (24 h).
 * A value that is not a duration, zero, or over 30 days is refused naming the variable.
 */
export function parseLinkTtl(text: string | undefined, source = 'TRICENTER_APPROVAL_LINK_TTL'): number | undefined {
  const value = (text ?? '').trim();
  if (value === '') return undefined;
  let rest = value;
  let ms = 0;
  while (rest !== '') {
    const match = DURATION.exec(rest);
    if (!match) throw new TricenterError('VALIDATION', `${source}: "${value.slice(0, 40)}" is not a duration such as 8h, 30m or 1h30m`);
    ms += Number(match[1]) * (UNIT_MS[match[2] as string] ?? 0);
    rest = rest.slice(match[0].length);
  }
  if (ms <= 0 || ms > MAX_LINK_TTL_MS) throw new TricenterError('VALIDATION', `${source}: must be more than 0s and at most 720h (30 days)`);
  return ms;
}
