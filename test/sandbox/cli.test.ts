import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { combineFault } from '../../cli/commands/sandbox.ts';

/** `tricenter sandbox up` in a child process, and `sandbox fail|heal` against it. */
const BIN = join(import.meta.dirname, '../../bin/tricenter.mjs');
const run = promisify(execFile);
let dir: string;
let child: ChildProcess;
let output = '';

async function tricenter(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
  }
}

/** Whether a TCP connection to the URL's port is accepted (the API serves TLS: a connection is enough). */
function connects(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

async function clusters(): Promise<Array<{ name: string; fault: string; apiUrl: string }>> {
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as { controlUrl: string };
  return (await fetch(`${state.controlUrl}/clusters`)).json() as Promise<Array<{ name: string; fault: string; apiUrl: string }>>;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tricenter-cli-'));
  await writeFile(join(dir, 'clusters.yaml'), 'clusters:\n  - name: one\n  - name: two\n');
  child = spawn(
    process.execPath,
    [
      BIN,
      'sandbox',
      'up',
      '--clusters',
      join(dir, 'clusters.yaml'),
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      '--ready-delay',
      '0',
      '--data-plane-port',
      '0',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('press Ctrl-C to stop')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`sandbox up exited with ${String(code)}: ${output}`)));
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

describe('tricenter sandbox', () => {
  it('up prints the kubeconfig and kubectl hints, and writes the state file beside the kubeconfig', async () => {
    expect(output).toContain(`kubeconfig ${join(dir, 'kubeconfig')}`);
    expect(output).toContain(`kubectl --kubeconfig ${join(dir, 'kubeconfig')} --context one get ns`);
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {
      pid: number;
      kubeconfigPath: string;
      clusters: unknown[];
    };
    expect(state).toMatchObject({ pid: child.pid, kubeconfigPath: join(dir, 'kubeconfig') });
    expect(state.clusters).toHaveLength(2);
  });

  it('fail and heal a cluster through the running sandbox', async () => {
    const failed = await tricenter('sandbox', 'fail', 'two', '--mode', 'api', '--kubeconfig', join(dir, 'kubeconfig'));
    expect(failed).toMatchObject({ code: 0, stdout: 'two: fault api-unreachable\n' });
    const apiUrl = (await clusters()).find((c) => c.name === 'two')?.apiUrl ?? '';
    expect(await connects(apiUrl)).toBe('ECONNREFUSED');
    expect((await tricenter('sandbox', 'heal', 'two', '--kubeconfig', join(dir, 'kubeconfig'))).stdout).toBe('two: fault none\n');
    expect(await connects(apiUrl)).toBe('connected');
    expect((await clusters()).map((c) => c.fault)).toEqual(['none', 'none']);
  });

  it('names an unknown cluster, and a missing sandbox, clearly', async () => {
    const unknown = await tricenter('sandbox', 'fail', 'three', '--kubeconfig', join(dir, 'kubeconfig'));
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no sandbox cluster named "three"');
    const none = await tricenter('sandbox', 'heal', 'one', '--kubeconfig', join(dir, 'elsewhere', 'kubeconfig'));
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no running sandbox');
  });

  it('stops on SIGTERM and removes its state file', async () => {
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('sandbox stopped');
    expect(existsSync(join(dir, 'state.json'))).toBe(false);
  });
});

describe('combineFault', () => {
  it.each([
    ['none', 'api', true, 'api-unreachable'],
    ['api-unreachable', 'data-plane', true, 'both'],
    ['both', 'api', false, 'data-plane-down'],
    ['both', 'both', false, 'none'],
    ['none', 'both', true, 'both'],
  ] as const)('%s + %s (fail=%s) = %s', (current, mode, fail, expected) => {
    expect(combineFault(current, mode, fail)).toBe(expected);
  });
});
