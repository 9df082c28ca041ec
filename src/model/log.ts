/** A bounded log per role, shown on its page. */
export interface LogLine {
  readonly atMs: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export const MAX_LOG_LINES = 200;

export function appendLog(log: readonly LogLine[], line: LogLine): LogLine[] {
  const next = log.length >= MAX_LOG_LINES ? log.slice(log.length - MAX_LOG_LINES + 1) : [...log];
  next.push(line);
  return next;
}
