/**
 * Bundles the browser pages (src/web/*.tsx) into dist/web/assets/ with esbuild: one script and one
 * style sheet per page, named by content hash so that the server can let browsers cache them
 * for good, and dist/web/manifest.json that tells the server which file is which page's.
 * Run by `npm run build` (and so by `npm ci`, through `prepare`).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const webdir = join(here, '..', '..', 'dist', 'web');
const outdir = join(webdir, 'assets');

const entryPoints = (await readdir(here))
  .filter((name) => name.endsWith('.tsx'))
  .map((name) => join(here, name));

await rm(webdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  metafile: true,
  tsconfig: join(here, 'tsconfig.json'),
  legalComments: 'linked',
  logLevel: 'warning',
});

/** Page name -> { js, css }: the file names the server writes into the page's HTML. */
const manifest = {};
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint) continue;
  const page = basename(output.entryPoint).replace(/\.tsx$/, '');
  const name = relative(outdir, file);
  manifest[page] ??= {};
  if (name.endsWith('.js')) manifest[page].js = name;
  if (output.cssBundle) manifest[page].css = relative(outdir, output.cssBundle);
}
await writeFile(join(webdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
