import * as z from 'zod/mini';
import { TricenterError } from '../../../platform/errors.ts';
import type { Notifier } from '../../ports/notifier.port.ts';
import { DingTalkNotifier, FeishuNotifier, SignedWebhookNotifier } from './webhook-notifiers.ts';

/**
 * The notification channels of a deployment, from configuration (TRICENTER_NOTIFIERS, a JSON list):
 *   [{"type": "dingtalk", "name": "ops", "url": "https://oapi.dingtalk.com/robot/send?access_token=...", "secret": "SEC..."},
 *    {"type": "feishu", "name": "dev", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/...", "secret": "..."},
 *    {"type": "webhook", "name": "audit", "url": "https://hooks.example.com/tricenter", "secret": "..."}]
 * A bad entry is refused naming its index and field, never echoing a value (they hold secrets).
 */
const entrySchema = z.strictObject({
  type: z.enum(['dingtalk', 'feishu', 'webhook']),
  name: z.string().check(z.regex(/^[a-z0-9][-a-z0-9]{0,62}$/)),
  url: z.string().check(z.regex(/^https?:\/\/[^\s]+$/)),
  secret: z.string().check(z.minLength(16)),
});

export function parseNotifierConfig(text: string, now: () => number, source = 'TRICENTER_NOTIFIERS'): Notifier[] {
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
    const options = { name: entry.name, url: entry.url, secret: entry.secret, now };
    if (entry.type === 'dingtalk') return new DingTalkNotifier(options);
    if (entry.type === 'feishu') return new FeishuNotifier(options);
    return new SignedWebhookNotifier(options);
  });
}
