import { createServer, type Server } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { signRequest } from '#shared/delivery/approval/auth.ts';

/**
 * The twin's stand-in for chat robots and webhooks: it takes the signed notifications the twin's
 * notifier sends (POST, any path), checks their signature, keeps the last ones in memory, and shows
 * them at GET / (an HTML page, no script, no external assets) and GET /messages.json. Nothing leaves
 * the machine: what a DingTalk or Feishu robot would have been sent, you read here.
 */
export interface ReceivedMessage {
  at: number;
  path: string;
  /** The signature matched the secret the twin's notifier signs with. */
  signatureValid: boolean;
  body: unknown;
}

export interface WebhookReceiver {
  /** Where the twin's notifier posts (`<url>hooks/tricenter`); GET `url` shows what arrived. */
  url: string;
  messages(): ReceivedMessage[];
  close(): Promise<void>;
}

const MAX_MESSAGES = 200;
const MAX_BODY_BYTES = 64 * 1024;

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const same = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * A signed message's one-time links, clickable, as a chat client shows them: each opens the
 * approval function's confirm page (which decides nothing until its form is sent). Only http(s)
 * URLs are made links.
 */
function linkList(body: unknown): string {
  const links = typeof body === 'object' && body !== null && 'links' in body ? (body as { links: unknown }).links : undefined;
  if (!Array.isArray(links)) return '';
  const items = links
    .filter((l): l is { recipient: string; url: string } => typeof l?.recipient === 'string' && typeof l?.url === 'string')
    .filter((l) => /^https?:\/\//.test(l.url))
    .map((l) => `<li><a href="${escapeHtml(l.url)}">decide as ${escapeHtml(l.recipient)}</a></li>`);
  return items.length > 0 ? `<ul class="links">${items.join('')}</ul>` : '';
}

function page(messages: readonly ReceivedMessage[]): string {
  const items = [...messages]
    .reverse()
    .map((m) => {
      const text =
        typeof m.body === 'object' && m.body !== null && 'text' in m.body
          ? String((m.body as { text: unknown }).text)
          : JSON.stringify(m.body);
      return `<li><p><time>${new Date(m.at).toISOString()}</time> ${m.signatureValid ? 'signed' : '<strong>BAD SIGNATURE</strong>'}</p><pre>${escapeHtml(text)}</pre>${m.signatureValid ? linkList(m.body) : ''}</li>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>tricenter: notifications</title></head><body><h1>Notifications the twin would have sent</h1><p>${messages.length} received (newest first).</p><ol>${items}</ol></body></html>`;
}

export async function startWebhookReceiver(options: { secret: string; now: () => number; port?: number }): Promise<WebhookReceiver> {
  const received: ReceivedMessage[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && (path === '/' || path === '/messages.json')) {
      const json = path === '/messages.json';
      res.writeHead(200, {
        'content-type': json ? 'application/json' : 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'cache-control': 'no-store',
      });
      res.end(json ? JSON.stringify({ messages: received }) : page(received));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      const text = Buffer.concat(chunks).toString('utf8');
      const timestamp = Number(req.headers['x-tricenter-timestamp']);
      const signature = String(req.headers['x-tricenter-signature'] ?? '');
      const signatureValid = Number.isFinite(timestamp) && same(signRequest(options.secret, timestamp, 'POST', path, text), signature);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      received.push({ at: options.now(), path, signatureValid, body });
      if (received.length > MAX_MESSAGES) received.shift();
      res.writeHead(signatureValid ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    messages: () => [...received],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
