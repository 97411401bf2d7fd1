import { LogHandler, LogLevel } from '@azure/functions';

/**
 * The local host's log output for invocations, as the Functions host filters by
 * `logging.logLevel`: lines below LOG_LEVEL (default `information`; the tests use `warning`) are
 * dropped, the rest go to the console.
 */
const levels: LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical'];

export function hostLogHandler(minimum: string | undefined = process.env.LOG_LEVEL): LogHandler {
  const threshold = Math.max(0, levels.indexOf((minimum ?? 'information').toLowerCase() as LogLevel));
  return (level, ...args) => {
    const rank = levels.indexOf(level);
    if (rank < threshold) return;
    if (rank >= levels.indexOf('error')) console.error(...args);
    else if (level === 'warning') console.warn(...args);
    else console.log(...args);
  };
}
