/**
 * Structured logs: one JSON line per event with a fixed shape
 * `{level, msg, ts, fn, requestId, runId, ...fields}`. Secrets are redacted by key name, so that a
 * credential passed along by mistake never reaches a log line.
 */

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogContext {
  fn?: string;
  requestId?: string;
  runId?: string;
  [key: string]: unknown;
}

type LogSink = (line: string) => void;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines also carry these fields (e.g. the run id once it is known). */
  child(context: LogContext): Logger;
}

const SECRET_KEY = /secret|password|token|authorization|credential|signature|accesskey|private.?key|client-key-data|^cert/i;

function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[too deep to log]';
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(value.cause ? { cause: redact(value.cause, depth + 1) } : {}) };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  sink?: LogSink;
  now?: () => number;
}

export function createLogger(context: LogContext = {}, options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? (process.env.TRICENTER_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? LEVELS.info;
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? Date.now;

  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < threshold) return;
    const { fn, requestId, runId, ...rest } = context;
    const line = {
      level,
      msg,
      ts: now(),
      fn: fn ?? null,
      requestId: requestId ?? null,
      runId: runId ?? null,
      ...(redact({ ...rest, ...fields }) as Record<string, unknown>),
    };
    sink(JSON.stringify(line));
  };

  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (extra) => createLogger({ ...context, ...extra }, options),
  };
}

/** A logger that keeps its lines in memory: for tests that assert on what was logged. */
export function memoryLogger(context: LogContext = {}): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger(context, { level: 'debug', sink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return Object.assign(logger, { lines });
}

export const silentLogger: Logger = createLogger({}, { sink: () => {} });
