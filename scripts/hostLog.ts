import { LogHandler, LogLevel } from '@azure/functions';
import { format } from 'node:util';

/**
 * The local host's log output for invocations, as the Functions host filters by
 * `logging.logLevel`: lines below LOG_LEVEL (default `information`; the tests use `warning`) are
 * dropped, the rest go to the console.
 *
 * Information lines (one per request and job run) are written once per turn of the event loop,
 * joined: a synchronous `console.log` per request was an eighth of a GET's CPU under load
 * (docs/benchmarks.md). Warnings and errors write what is pending first, so the order holds.
 */
const levels: LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical'];

let pending: string[] = [];
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  if (pending.length === 0) return;
  const text = `${pending.join('\n')}\n`;
  pending = [];
  process.stdout.write(text);
}

// Whatever is still pending when the process ends (stdout to a file or pipe is written synchronously).
process.on('exit', flush);

export function hostLogHandler(minimum: string | undefined = process.env.LOG_LEVEL): LogHandler {
  const threshold = Math.max(0, levels.indexOf((minimum ?? 'information').toLowerCase() as LogLevel));
  return (level, ...args) => {
    const rank = levels.indexOf(level);
    if (rank < threshold) return;
    if (rank >= levels.indexOf('warning')) {
      flush();
      if (level === 'warning') console.warn(...args);
      else console.error(...args);
      return;
    }
    pending.push(format(...args));
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };
}
