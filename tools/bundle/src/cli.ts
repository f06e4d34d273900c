/**
 * `node --conditions=@vdi/source --import tsx tools/bundle/src/cli.ts operator [outfile]`: writes
 * the operator as its image runs it (default apps/operator/dist/operator.mjs) and says what is in it.
 */
import path from 'node:path';
import { bundleNodeService, operatorBundleOptions } from './bundle.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const [what, out] = process.argv.slice(2);
if (what !== 'operator') {
  process.stderr.write(
    'usage: cli.ts operator [outfile]   (the only service bundled so far is the operator)\n',
  );
  process.exit(2);
}
const t0 = Date.now();
const r = await bundleNodeService(operatorBundleOptions(root, out ?? 'apps/operator/dist/operator.mjs'));
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const top = Object.entries(r.byPackage)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 5)
  .map(([k, v]) => `${k} ${mb(v)}`)
  .join(', ');
process.stdout.write(
  JSON.stringify({
    level: 'info',
    msg: `bundled the operator: ${path.relative(root, r.outfile)}, ${mb(r.bytes)} from ${r.modules} files in ${Date.now() - t0} ms; largest: ${top}`,
    narrowed: r.narrowed,
  }) + '\n',
);
if (!r.ascii)
  process.stdout.write(
    JSON.stringify({
      level: 'warn',
      msg: 'the bundle keeps characters beyond ASCII outside comments (a regular expression or String.raw): V8 holds its source at two bytes per character; see asciiOnly in tools/bundle',
    }) + '\n',
  );
