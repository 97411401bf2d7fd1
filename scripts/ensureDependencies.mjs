#!/usr/bin/env node
/**
 * Runs before `npm start` and `npm test` (npm's pre-scripts), so both work on a fresh clone with
 * nothing run before them: when node_modules is missing, or older than package-lock.json, it runs
 * `npm ci`. Plain JavaScript with Node built-ins only, since nothing else is installed yet.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const mtime = (file) => {
  try {
    return statSync(path.join(root, file)).mtimeMs;
  } catch {
    return undefined;
  }
};

// npm writes node_modules/.package-lock.json at the end of every install.
const installed = mtime('node_modules/.package-lock.json');
const locked = mtime('package-lock.json');
if (installed !== undefined && locked !== undefined && installed >= locked) process.exit(0);

console.log(
  installed === undefined
    ? 'node_modules is missing: installing dependencies (npm ci)…'
    : 'package-lock.json changed since the last install: installing dependencies (npm ci)…',
);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
