// The JavaScript each page of the production build makes a browser load on a first visit, raw and
// gzipped, from the build's manifests. Next.js 16 no longer prints sizes after `next build`; this
// restores the number the portal keeps an eye on (the gallery, "/", is the first page users see).
//
// First-load JS of a page = the root main files (framework, router, Turbopack runtime) plus every
// chunk its client-reference manifest lists for the segments on its tree (layout, error and
// not-found boundaries, the page). Legacy polyfills (nomodule) are not loaded by current browsers.
//
// Usage: node apps/web/scripts/page-size.mjs [--budget-kb=<gzip KB for "/">]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = path.resolve(import.meta.dirname, '..', '.next');
const budgetArg = process.argv.find((a) => a.startsWith('--budget-kb='));
const budgetKb = budgetArg ? Number(budgetArg.split('=')[1]) : undefined;

if (!existsSync(path.join(dist, 'build-manifest.json'))) {
  console.error(`no build in ${dist}; run next build first`);
  process.exit(1);
}
const build = JSON.parse(readFileSync(path.join(dist, 'build-manifest.json'), 'utf8'));

/** Every page_client-reference-manifest.js under .next/server/app, as [route, manifest]. */
function pageManifests(dir = path.join(dist, 'server', 'app'), out = []) {
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) pageManifests(full, out);
    else if (entry === 'page_client-reference-manifest.js') {
      const sandbox = { __RSC_MANIFEST: {} };
      new Function('globalThis', readFileSync(full, 'utf8'))(sandbox);
      for (const [key, manifest] of Object.entries(sandbox.__RSC_MANIFEST)) {
        const route = key.replace(/\/page$/, '') || '/';
        if (!route.startsWith('/_')) out.push([route, manifest]);
      }
    }
  }
  return out;
}

const sizes = new Map();
function size(file) {
  if (!sizes.has(file)) {
    const body = readFileSync(path.join(dist, file));
    sizes.set(file, { raw: body.length, gzip: gzipSync(body, { level: 9 }).length });
  }
  return sizes.get(file);
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
const rows = pageManifests()
  .map(([route, manifest]) => {
    const files = new Set(build.rootMainFiles);
    for (const list of Object.values(manifest.entryJSFiles ?? {})) for (const f of list) files.add(f);
    const total = [...files].reduce(
      (t, f) => {
        const s = size(f);
        return { raw: t.raw + s.raw, gzip: t.gzip + s.gzip, files: t.files + 1 };
      },
      { raw: 0, gzip: 0, files: 0 },
    );
    return { route, ...total };
  })
  .sort((a, b) => a.route.localeCompare(b.route));

const shared = build.rootMainFiles.reduce((t, f) => t + size(f).gzip, 0);
console.log('\nFirst-load JavaScript per page (gzip; raw in brackets):');
for (const r of rows) {
  console.log(`  ${r.route.padEnd(20)} ${kb(r.gzip).padStart(9)}  (${kb(r.raw)}, ${r.files} files)`);
}
console.log(`  shared by all pages  ${kb(shared).padStart(9)}  (framework, router, runtime)`);

const first = rows.find((r) => r.route === '/');
if (first && budgetKb !== undefined) {
  if (first.gzip / 1024 > budgetKb) {
    console.error(
      `\nthe first page "/" loads ${kb(first.gzip)} of JavaScript, over its budget of ${budgetKb} kB`,
    );
    process.exit(1);
  }
  console.log(`\nfirst page "/": ${kb(first.gzip)} gzip, within its budget of ${budgetKb} kB`);
}
