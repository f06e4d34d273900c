/**
 * Structured logs of the access tooling: one JSON line per event on stderr (`component`
 * says which part spoke). Callers may pass their own Logger, e.g. to silence or collect lines.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function jsonLogger(
  component: string,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const emit = (level: string, msg: string, fields: LogFields = {}) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields })}\n`);
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

export const log: Logger = jsonLogger('access');

/** A Logger that drops everything (tests that assert on other output). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
