/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script Node preloads with -r */
// Lets a child Node.js process load the project's TypeScript files with Node's own module loader
// (`node -r ./test/support/tsRequire.js file.ts`), for tests that need the real loader: jest's
// module registry does not go through the require hooks OpenTelemetry instrumentations use.
// Transpile only, as ts-jest does here: type-checking is `npm run typecheck`'s job.
const { readFileSync } = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const output = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(output.outputText, filename);
};
