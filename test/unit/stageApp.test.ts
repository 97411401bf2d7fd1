import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { productionLock, productionManifest, stageApp } from '../../scripts/stageApp';

/** The deployed package (dist/app) holds only what runs, and its lockfile installs exactly the production tree. */

const root = path.join(__dirname, '..', '..');
const rootManifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const rootLock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));

function filesUnder(directory: string, prefix = ''): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(path.join(directory, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

describe('the deployed package', () => {
  it('has the production dependencies and the entry points relative to the app folder', () => {
    const manifest = productionManifest(rootManifest);
    expect(manifest.dependencies).toEqual(rootManifest.dependencies);
    expect(manifest).not.toHaveProperty('devDependencies');
    expect(manifest).not.toHaveProperty('scripts');
    expect(manifest.main).toBe('{shared/telemetry.js,functions/*.js}');
  });

  it('locks a closed production tree: every dependency of a kept package is kept, no dev package is', () => {
    const manifest = productionManifest(rootManifest);
    const lock = productionLock(rootLock, manifest);
    const packages = lock.packages;
    expect(Object.values(packages).some((entry) => entry.dev)).toBe(false);
    // A development dependency that a production one also needs (msal-browser, for @azure/identity) stays.
    for (const devOnly of Object.keys(rootManifest.devDependencies)) {
      if (rootLock.packages[`node_modules/${devOnly}`]?.dev)
        expect(packages[`node_modules/${devOnly}`]).toBeUndefined();
    }
    // Node's resolution, in lockfile terms: the nearest node_modules/<name> up from the dependent.
    const resolve = (from: string, name: string): string | undefined => {
      for (let base = from; ; base = base.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, '')) {
        const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
        if (packages[candidate]) return candidate;
        if (!base) return undefined;
      }
    };
    for (const [location, entry] of Object.entries(packages)) {
      for (const name of Object.keys(entry.dependencies ?? {})) {
        expect({ location, name, resolved: resolve(location, name) !== undefined }).toMatchObject({ resolved: true });
      }
    }
    expect(packages['']).toMatchObject({ dependencies: rootManifest.dependencies });
  });

  it('stages compiled functions and shared code, without scripts, tests or source maps', () => {
    const project = mkdtempSync(path.join(tmpdir(), 'stage-'));
    const write = (file: string, text = '') => {
      mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
      writeFileSync(path.join(project, file), text);
    };
    write('package.json', JSON.stringify(rootManifest));
    write('package-lock.json', JSON.stringify(rootLock));
    write('host.json', '{"version":"2.0"}');
    for (const file of [
      'functions/relationships.js',
      'portal/index.html',
      'shared/store/tables.js',
      'shared/telemetry.js',
    ]) {
      write(`dist/${file}`);
      write(`dist/${file}.map`);
    }
    write('dist/scripts/bench/api.js');
    write('dist/test/unit/x.test.js');
    write('functions/relationships.ts');

    stageApp(project);
    expect(filesUnder(path.join(project, 'dist', 'app')).sort()).toEqual([
      'functions/relationships.js',
      'host.json',
      'package-lock.json',
      'package.json',
      'portal/index.html',
      'shared/store/tables.js',
      'shared/telemetry.js',
    ]);
  });
});
