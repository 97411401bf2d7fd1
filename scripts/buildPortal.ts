/**
 * Builds the web portal (SPEC §17): portal/src → dist/portal/ (index.html, content-hashed
 * assets/, their .br/.gz twins and manifest.json), which functions/portal.ts serves. Run by
 * `npm run build`, and by the test set-up so the browser tests always see the current sources.
 */
import { build, Plugin } from 'esbuild';
import { webLightTheme } from '@fluentui/tokens';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { PortalManifest, PortalManifestFile, portalManifestFile } from '../shared/portalManifest';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** The repository root: the nearest folder above this file with a package.json (from scripts/ or dist/scripts/). */
function projectRoot(): string {
  let directory = __dirname;
  while (!existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('No package.json above scripts/: cannot find the project root.');
    directory = parent;
  }
  return directory;
}

/**
 * Fluent 2's light theme (the M365 admin look) as CSS custom properties, for `@import 'fluent:tokens';`
 * in the stylesheet: only the tokens the stylesheet uses (`var(--name)`), not all ~460 of them.
 */
function fluentTokens(stylesheet: string): Plugin {
  return {
    name: 'fluent-tokens',
    setup(builder) {
      builder.onResolve({ filter: /^fluent:tokens$/ }, () => ({ path: 'tokens.css', namespace: 'fluent' }));
      builder.onLoad({ filter: /.*/, namespace: 'fluent' }, async () => {
        const used = new Set(
          [...(await readFile(stylesheet, 'utf8')).matchAll(/var\(--([A-Za-z0-9]+)\)/g)].map((m) => m[1]),
        );
        const declarations = Object.entries(webLightTheme)
          .filter(([name]) => used.has(name))
          .map(([name, value]) => `--${name}:${String(value)};`);
        return { loader: 'css', contents: `:root{${declarations.join('')}}` };
      });
    },
  };
}

/** Compressed twins are worth it for text; a browser that sends Accept-Encoding gets them as is. */
const compressible = /\.(html|js|css|svg)$/;

async function listFiles(directory: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? listFiles(path.join(directory, entry.name), `${prefix}${entry.name}/`)
        : [`${prefix}${entry.name}`],
    ),
  );
  return nested.flat();
}

export interface PortalBuild {
  outDir: string;
  files: PortalManifestFile[];
  /** Bytes of the scripts and styles the first page load fetches (compressed with brotli). */
  firstLoadBytes: number;
}

export async function buildPortal(options: { outDir?: string } = {}): Promise<PortalBuild> {
  const root = projectRoot();
  const outDir = options.outDir ?? path.join(root, 'dist', 'portal');
  const staging = `${outDir}.staging-${process.pid}-${Date.now()}`;
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: { main: 'portal/src/main.ts', styles: 'portal/src/styles.css' },
      tsconfig: 'portal/tsconfig.json',
      bundle: true,
      // MSAL (Entra sign-in) is imported on demand, so the sandbox and the first page never load it.
      splitting: true,
      format: 'esm',
      target: ['chrome120', 'edge120', 'firefox120', 'safari17'],
      outdir: path.join(staging, 'assets'),
      entryNames: '[name]-[hash]',
      chunkNames: 'chunk-[hash]',
      assetNames: '[name]-[hash]',
      minify: true,
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      plugins: [fluentTokens(path.join(root, 'portal', 'src', 'styles.css'))],
    });
    const outputs = Object.entries(result.metafile.outputs).map(([file, output]) => ({
      path: path.relative(staging, path.join(root, file)).split(path.sep).join('/'),
      output,
    }));
    const entry = (name: string) => {
      const found = outputs.find((item) => item.output.entryPoint === `portal/src/${name}`);
      if (!found) throw new Error(`esbuild wrote no output for portal/src/${name}`);
      return found;
    };
    const main = entry('main.ts');
    const styles = entry('styles.css');
    // Chunks the entry imports statically are fetched in parallel with it, not after it.
    const preloads = main.output.imports
      .filter((item) => item.kind === 'import-statement' && !item.external)
      .map((item) => path.relative(staging, path.join(root, item.path)).split(path.sep).join('/'));
    const template = await readFile(path.join(root, 'portal', 'index.html'), 'utf8');
    const html = template
      .replace('<!-- styles -->', `<link rel="stylesheet" href="/portal/${styles.path}">`)
      .replace(
        '<!-- scripts -->',
        [
          ...preloads.map((file) => `<link rel="modulepreload" href="/portal/${file}">`),
          `<script type="module" src="/portal/${main.path}"></script>`,
        ].join('\n    '),
      );
    await writeFile(path.join(staging, 'index.html'), html);

    const files = await Promise.all(
      (await listFiles(staging)).map(async (file): Promise<PortalManifestFile & { brotliBytes: number }> => {
        const immutable = file.startsWith('assets/');
        if (!compressible.test(file)) return { path: file, immutable, encodings: [], brotliBytes: 0 };
        const content = await readFile(path.join(staging, file));
        const [br, gz] = await Promise.all([
          brotli(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
          gzipAsync(content, { level: 9 }),
        ]);
        await Promise.all([
          writeFile(path.join(staging, `${file}.br`), br),
          writeFile(path.join(staging, `${file}.gz`), gz),
        ]);
        return { path: file, immutable, encodings: ['br', 'gzip'], brotliBytes: br.length };
      }),
    );
    const firstLoad = new Set([main.path, styles.path, ...preloads, 'index.html']);
    const firstLoadBytes = files.filter((file) => firstLoad.has(file.path)).reduce((sum, f) => sum + f.brotliBytes, 0);
    const manifest: PortalManifest = {
      files: files.map(({ path: file, immutable, encodings }) => ({ path: file, immutable, encodings })),
    };
    await writeFile(path.join(staging, portalManifestFile), JSON.stringify(manifest, null, 2));

    // Swap the new build in whole, so a running host never sees half of one.
    await mkdir(path.dirname(outDir), { recursive: true });
    const previous = `${outDir}.previous-${process.pid}-${Date.now()}`;
    if (existsSync(outDir)) await rename(outDir, previous);
    await rename(staging, outDir);
    await rm(previous, { recursive: true, force: true });
    return { outDir, files: manifest.files, firstLoadBytes };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (require.main === module) {
  buildPortal()
    .then(({ outDir, files, firstLoadBytes }) =>
      console.log(
        `Portal built in ${path.relative(process.cwd(), outDir)}: ${files.length} files, ${(firstLoadBytes / 1024).toFixed(0)} KiB (brotli) on first load.`,
      ),
    )
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
