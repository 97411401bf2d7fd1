/**
 * `npm run build`'s last step: `dist/app/`, the function app as it is deployed (`azd deploy`
 * zips this folder, azure.yaml `dist`), holding only what runs: the compiled function files and
 * shared code (no scripts, benchmarks, tests, sources or source maps), host.json, and a
 * package.json and package-lock.json with the production dependencies only, which the
 * deployment's remote build installs.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  main: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface LockEntry {
  version?: string;
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  [key: string]: unknown;
}

interface PackageLock {
  name: string;
  version: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

/** The folders of dist/ that run in Azure (portal: the built pages its function serves). */
export const runtimeFolders = ['functions', 'shared', 'portal'];

/** package.json for the deployed app: what the runtime reads (`main`) and what it installs. */
export function productionManifest(root: PackageJson): PackageJson {
  return {
    name: root.name,
    version: root.version,
    description: root.description,
    license: root.license,
    private: true,
    // The same entry points, relative to dist/ (where the app's files sit once deployed).
    main: root.main.replace(/^dist\//, ''),
    engines: root.engines,
    dependencies: root.dependencies,
  };
}

/** The lockfile without the packages only development needs (npm marks them `dev`). */
export function productionLock(root: PackageLock, manifest: PackageJson): PackageLock {
  const packages: Record<string, LockEntry> = {};
  for (const [location, entry] of Object.entries(root.packages)) {
    if (location === '') {
      packages[''] = {
        name: manifest.name,
        version: manifest.version,
        license: manifest.license,
        dependencies: manifest.dependencies,
        engines: manifest.engines,
      };
    } else if (!entry.dev) {
      packages[location] = entry;
    }
  }
  return { ...root, packages };
}

export function stageApp(projectRoot: string, outputDirectory = path.join(projectRoot, 'dist', 'app')): void {
  const read = <T>(file: string): T => JSON.parse(readFileSync(path.join(projectRoot, file), 'utf8')) as T;
  const manifest = productionManifest(read<PackageJson>('package.json'));
  rmSync(outputDirectory, { recursive: true, force: true });
  mkdirSync(outputDirectory, { recursive: true });
  for (const folder of runtimeFolders) {
    cpSync(path.join(projectRoot, 'dist', folder), path.join(outputDirectory, folder), {
      recursive: true,
      filter: (source) => !source.endsWith('.map'),
    });
  }
  cpSync(path.join(projectRoot, 'host.json'), path.join(outputDirectory, 'host.json'));
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  writeFileSync(path.join(outputDirectory, 'package.json'), json(manifest));
  writeFileSync(
    path.join(outputDirectory, 'package-lock.json'),
    json(productionLock(read<PackageLock>('package-lock.json'), manifest)),
  );
}

if (require.main === module) {
  const projectRoot = path.join(__dirname, '..', '..');
  stageApp(projectRoot);
  console.log(`Staged the function app in ${path.relative(process.cwd(), path.join(projectRoot, 'dist', 'app'))}/`);
}
