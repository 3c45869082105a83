/**
 * Processes, ports and certificates for envtest.ts: the parts that know nothing of Kubernetes.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Every child still running, so that a dying test process does not leave servers behind. */
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A CA, a serving certificate for 127.0.0.1 signed by it, and the service-account key pair. */
export async function makeCertificates(dir: string): Promise<void> {
  const openssl = (...args: string[]): Promise<unknown> => execFileAsync('openssl', args, { cwd: dir });
  const extensions = [
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc',
    'basicConstraints=CA:FALSE',
    'keyUsage=digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
  ].join('\n');
  writeFileSync(join(dir, 'server.ext'), `${extensions}\n`);
  await Promise.all([
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '7',
      '-subj',
      '/CN=tricenter-envtest-ca',
    ),
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'),
    openssl('genrsa', '-out', 'sa.key', '2048'),
  ]);
  await Promise.all([
    openssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '7',
      '-extfile',
      'server.ext',
    ),
    openssl('rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'),
  ]);
}

export function startProcess(dir: string, name: string, command: string, args: string[]): ChildProcess {
  const logFd = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

export function logTail(dir: string, name: string, lines = 25): string {
  try {
    return readFileSync(join(dir, `${name}.log`), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

export function httpGetStatus(url: string, options: { ca?: string; token?: string }): Promise<number> {
  return new Promise((resolve) => {
    const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, ca: options.ca, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/**
 * Polls `isReady` until true; fails at once if the process exits, with the tail of its log. Nothing
 * announces readiness of these servers but their health endpoints, hence the polling.
 */
export async function waitUntilReady(
  child: ChildProcess,
  dir: string,
  name: string,
  isReady: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  const onExit = (code: number | null, signal: string | null): void => {
    exited = `exited (code ${code}, signal ${signal})`;
  };
  child.once('exit', onExit);
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(`${name} ${exited} before it was ready:\n${logTail(dir, name)}`);
      if (await isReady()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} not ready after ${timeoutMs} ms:\n${logTail(dir, name)}`);
  } finally {
    child.off('exit', onExit);
  }
}

/** SIGTERM, then SIGKILL after 5 s. */
export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(escalate);
}
