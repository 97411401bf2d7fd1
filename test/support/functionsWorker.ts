import { readdirSync, readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

/**
 * Runs the app in this process the way the Functions Node.js worker does: `@azure/functions-core`
 * resolves to the stand-in (test/support/functionsCore.ts), then the files of package.json's
 * `main` glob load in its order (`dist/{a.js,b/*.js}`, here from their TypeScript sources).
 */
const standIn = path.join(__dirname, 'functionsCore.ts');
const internals = Module as unknown as {
  _resolveFilename(request: string, parent: unknown, ...rest: unknown[]): string;
};
const resolve = internals._resolveFilename;
internals._resolveFilename = function (request, parent, ...rest) {
  return request === '@azure/functions-core' ? standIn : resolve.call(this, request, parent, ...rest);
};

const root = path.join(__dirname, '..', '..');

/** The source files of package.json's `main`, in the order the worker loads them. */
export function entryPoints(): string[] {
  const { main } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { main: string };
  const braces = /^dist\/\{(.+)\}$/.exec(main);
  const patterns = braces ? braces[1].split(',') : [main.replace(/^dist\//, '')];
  return patterns.flatMap((pattern) => {
    const source = path.join(root, pattern.replace(/\.js$/, '.ts'));
    if (!source.includes('*')) return [source];
    const directory = path.dirname(source);
    const suffix = path.basename(source).replace('*', '');
    return readdirSync(directory)
      .filter((file) => file.endsWith(suffix) && !file.endsWith('.d.ts'))
      .sort()
      .map((file) => path.join(directory, file));
  });
}

export function loadApp(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the entry points is the point
  for (const file of entryPoints()) require(file);
}
