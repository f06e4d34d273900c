import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asciiOnly, bundleNodeService, mentionedNames, narrowedModule, packageOf } from './bundle.js';

/** A throw-away project: an ES module package `big`, a CommonJS package `fw` that requires it, an entry using both. */
function fixture(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'vdi-bundle-'));
  const pkg = (name: string, files: Record<string, string>, type: 'module' | 'commonjs') => {
    const dir = path.join(root, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, type, main: 'index.js' }));
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
  };
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module' }));
  // Each export is its own module, as client-node's generated clients are.
  pkg(
    'big',
    {
      'index.js': "export * from './kube.js';\nexport * from './watch.js';\nexport * from './unused.js';\n",
      'kube.js':
        "// “the” config — with a comment beyond ASCII\nexport class KubeConfig { marker() { return 'KUBECONFIG-MARKER'; } }\n",
      'watch.js': "export class Watch { marker() { return 'WATCH-MARKER'; } }\n",
      'unused.js': "export class UnusedApi { marker() { return 'UNUSED-MARKER'; } }\n",
    },
    'module',
  );
  pkg(
    'fw',
    {
      'index.js':
        "const k8s = require('big');\nconst fs = require('fs');\n" +
        'exports.make = () => new k8s.KubeConfig().marker() + (fs.existsSync("/") ? "" : "!");\n',
    },
    'commonjs',
  );
  writeFileSync(
    path.join(root, 'main.ts'),
    "import fw from 'fw';\nimport { Watch } from 'big';\nconst s: string = fw.make() + ' ' + new Watch().marker();\nconsole.log(s);\n",
  );
  return root;
}

describe('bundleNodeService', () => {
  let root: string;
  beforeAll(() => {
    root = fixture();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('answers a CommonJS require of an ES module package with only the names the requiring file uses, and the bundle runs', async () => {
    const r = await bundleNodeService({
      root,
      entry: 'main.ts',
      outfile: 'out/main.mjs',
      narrowRequires: [{ pkg: 'big', importer: /node_modules[\\/]fw[\\/]/ }],
    });
    const text = readFileSync(r.outfile, 'utf8');
    expect(text).toContain('KUBECONFIG-MARKER');
    expect(text).toContain('WATCH-MARKER');
    expect(text).not.toContain('UNUSED-MARKER');
    expect(r.ascii).toBe(true);
    expect(text).toMatch(/^[\x00-\x7f]*$/);
    expect(r.narrowed).toEqual({ [path.join('node_modules', 'fw', 'index.js')]: ['KubeConfig'] });
    expect(r.byPackage).toMatchObject({ big: expect.any(Number), fw: expect.any(Number) });
    // Plain node, from a directory with no node_modules: everything it needs is in the file.
    const alone = mkdtempSync(path.join(os.tmpdir(), 'vdi-bundle-run-'));
    try {
      writeFileSync(path.join(alone, 'main.mjs'), text);
      expect(
        execFileSync(process.execPath, [path.join(alone, 'main.mjs')], { encoding: 'utf8' }).trim(),
      ).toBe('KUBECONFIG-MARKER WATCH-MARKER');
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });

  it('without the narrowing, the whole required package is kept (what the narrowing is for)', async () => {
    const r = await bundleNodeService({ root, entry: 'main.ts', outfile: 'out/whole.mjs' });
    expect(readFileSync(r.outfile, 'utf8')).toContain('UNUSED-MARKER');
    expect(r.narrowed).toEqual({});
  });
});

describe('narrowing helpers', () => {
  it('re-exports the package exports a file mentions, never default', () => {
    const used = mentionedNames('const k = new k8s.KubeConfig(); k8s.loadYaml(x); // default');
    expect(narrowedModule('big', ['Watch', 'loadYaml', 'KubeConfig', 'default'], used)).toBe(
      'export { KubeConfig, loadYaml } from "big";\n',
    );
  });

  it('names the npm package a bundled file comes from', () => {
    expect(packageOf('node_modules/@kubernetes/client-node/dist/watch.js')).toBe('@kubernetes/client-node');
    expect(packageOf('node_modules/tar-fs/node_modules/tar-stream/index.js')).toBe('tar-stream');
    expect(packageOf('libs/kube-client/src/slim.ts')).toBe('(workspace)');
  });
});

describe('asciiOnly', () => {
  it('escapes what is left outside ASCII when only comments hold it', async () => {
    const r = await asciiOnly('// “quoted” — comment\nconst s = "\\xE9";\n/* § */ export { s };\n');
    expect(r.ascii).toBe(true);
    expect(r.text).toMatch(/^[\x00-\x7f]*$/);
    expect(r.text).toContain('// \\u201cquoted\\u201d \\u2014 comment');
  });

  it('leaves the text as it is where an escape would change the program (String.raw, a regular expression)', async () => {
    for (const code of ['export const r = String.raw`é`;\n', 'export const r = /é/.source;\n']) {
      await expect(asciiOnly(`// ü\n${code}`)).resolves.toEqual({ text: `// ü\n${code}`, ascii: false });
    }
  });
});
