import { randomUUID } from 'node:crypto';

// Each test file works in tables of its own, so jobs that sweep "everything due" in one file
// never touch another file's data while jest runs them in parallel.
process.env.TABLE_PREFIX = `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;
// The local host logs one line per request and job run; tests show warnings and errors only.
process.env.LOG_LEVEL ??= 'warning';
