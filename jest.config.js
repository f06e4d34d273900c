// Every jest project of the monorepo (unit and integration tiers), for `npm test` and IDEs.
// Each project's own jest.config.js is the source; this file only collects them.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

const roots = ['libs', 'tools', 'apps', 'deploy', 'images'].flatMap((top) =>
  readdirSync(path.join(import.meta.dirname, top), { withFileTypes: true })
    .filter(
      (d) => d.isDirectory() && existsSync(path.join(import.meta.dirname, top, d.name, 'jest.config.js')),
    )
    .map((d) => path.join(import.meta.dirname, top, d.name, 'jest.config.js')),
);
// bench/ is one project at the top level.
if (existsSync(path.join(import.meta.dirname, 'bench', 'jest.config.js'))) {
  roots.push(path.join(import.meta.dirname, 'bench', 'jest.config.js'));
}
const configs = await Promise.all(roots.map((f) => import(f).then((m) => m.default.projects)));

export default { projects: configs.flat() };
