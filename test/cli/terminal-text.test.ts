import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '#shared/platform/log.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import { describeIngest } from '#cli/commands/app.ts';
import type { UploadResult } from '#cli/client.ts';
import { formatStatus, table } from '#cli/status-view.ts';
import { terminalSafe, terminalSafeJson, terminalSafeLines } from '#cli/terminal-text.ts';

/**
 * Strings from bundles and the server reach the terminal with every control character escaped:
 * no screen clearing, no cursor moves, no forged line, no bidi reordering. Server logs are JSON
 * lines, where a name cannot start a line of its own either.
 */
const CLEAR_SCREEN = '\x1b[2J\x1b[H';
const FORGED = 'web\n{"level":"info","msg":"approved by admin"}';
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('terminal text', () => {
  it('escapes C0, DEL, C1, line separators and bidi controls, and leaves other text alone', () => {
    expect(terminalSafe(`a${CLEAR_SCREEN}b`)).toBe('a\\x1b[2J\\x1b[Hb');
    expect(terminalSafe('x\ny\rz\tw\x7f\x85\u2028\u202eevil')).toBe('x\\x0ay\\x0dz\\x09w\\x7f\\x85\\u2028\\u202eevil');
    expect(terminalSafe('web-demo 北京 ✓')).toBe('web-demo 北京 ✓');
  });

  it('keeps JSON valid and its formatting, with no raw control character inside strings', () => {
    const value = { name: `n${CLEAR_SCREEN}\u202e\x85`, list: [FORGED] };
    const text = terminalSafeJson(value);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
    expect(text.split('\n')).toHaveLength(JSON.stringify(value, null, 2).split('\n').length);
  });

  it('escapes within lines of our own text, keeping only our line breaks', () => {
    expect(terminalSafeLines(`error: unknown option '--x${CLEAR_SCREEN}'\n`)).toBe("error: unknown option '--x\\x1b[2J\\x1b[H'\n");
  });

  it('status views print hostile names, reasons and errors on the lines they belong to', () => {
    const status: AppStatus = {
      app: { namespace: 'demo', name: 'web-demo' },
      phase: 'workflowFailed',
      runId: `run-1${CLEAR_SCREEN}`,
      reason: FORGED,
      steps: [
        {
          name: `step${CLEAR_SCREEN}`,
          type: 'deploy',
          phase: 'failed',
          needsApproval: false,
          clusters: [{ cluster: 'c1\u202e', status: 'failed', attempt: 1 }],
        },
      ],
      clusters: [
        {
          cluster: 'c1',
          reachable: true,
          workloads: [{ kind: 'Deployment', namespace: 'demo', name: `x${FORGED}`, ready: '1/1', upToDate: 1, available: 1 }],
        },
      ],
      decisions: [],
      lastFailedIngest: { error: `bad${CLEAR_SCREEN}`, source: { bucket: 'b', key: 'bundles/demo/evil\n.yaml', etag: 'e' }, at: 0 },
    } as AppStatus;
    const text = formatStatus(status);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).not.toContain('\n{"level"');
    // head, reason, last upload, blank, step header + 1 row, blank, workload header + 1 row
    expect(text.split('\n')).toHaveLength(9);
    expect(table([['A', `b${CLEAR_SCREEN}`]])).toBe('A   b\\x1b[2J\\x1b[H');
  });

  it('a server log line stays one JSON line whatever a name holds', () => {
    const lines: string[] = [];
    createLogger({ fn: 'approval' }, { sink: (line) => lines.push(line), now: () => 1 }).info('request refused', {
      name: FORGED,
      entry: `a${CLEAR_SCREEN}\u2028b`,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/[\u0000-\u001f]/);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'request refused', name: FORGED });
  });
});

describe('what tricenter upload says about the ingest', () => {
  const upload: UploadResult = {
    app: { namespace: 'demo', name: 'web-demo' },
    bucket: 'b',
    key: 'bundles/demo/web-demo.tar.gz',
    etag: 'E1',
    size: 10,
    outcome: '/apps/demo/web-demo/bundle?format=tar.gz&etag=E1',
  };

  it('the run it started, or that nothing changed', () => {
    expect(describeIngest(upload, { status: 'completed', outcome: 'run-started', runId: 'run-9', releaseId: 'r9' }, 0)).toBe(
      'demo/web-demo: run run-9 started (release r9)',
    );
    expect(describeIngest(upload, { status: 'completed', outcome: 'unchanged', runId: 'run-8' }, 0)).toBe(
      'demo/web-demo: unchanged, this publishVersion is already the current release (run run-8)',
    );
  });

  it('a refusal or no answer in time is an error carrying the reason', () => {
    expect(() => describeIngest(upload, { status: 'completed', outcome: 'failed', error: 'app.yaml (document 2): bad' }, 0)).toThrow(
      'demo/web-demo: the bundle was refused: app.yaml (document 2): bad',
    );
    expect(() => describeIngest(upload, { status: 'pending' }, 120_000)).toThrow(
      /no ingest outcome for bundles\/demo\/web-demo\.tar\.gz \(etag E1\) after 120 s/,
    );
  });
});

describe('tricenter plan', () => {
  it('prints a step name from the bundle escaped, on its own row', async () => {
    const { Command } = await import('commander');
    const { register } = await import('#cli/commands/render.ts');
    const { variantOfWebDemo } = await import('../e2e/bundles.ts');
    const dir = variantOfWebDemo({
      'app.yaml': (text) => text.replace('name: deploy-cluster1-beijing', 'name: "deploy\\e[2J\\nSTEP 9. forged"'),
    });
    const program = new Command().exitOverride();
    register(program);
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync(['node', 'tricenter', 'plan', dir]);
    } finally {
      stdout.mockRestore();
    }
    const text = written.join('');
    expect(text).not.toMatch(RAW_CONTROL);
    expect(text).toContain('1. deploy\\x1b[2J\\x0aSTEP 9. forged');
    // head, blank, header, three steps
    expect(text.trimEnd().split('\n')).toHaveLength(6);
  });
});
