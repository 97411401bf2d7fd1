import { randomUUID } from 'node:crypto';

// Each test file works in tables of its own, so jobs that sweep "everything due" in one file
// never touch another file's data while jest runs them in parallel.
process.env.TABLE_PREFIX = `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;
