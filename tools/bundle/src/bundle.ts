/**
 * The platform's Node services as they ship: one ES module file per service, its npm packages
 * bundled in (esbuild), run by plain `node` with no node_modules beside it.
 *
 * Why a bundle and not the compiled files over node_modules: `@kubernetes/client-node` is ~1000 ES
 * modules (21 MB of JavaScript). Imported from node_modules, all of them load, and the process
 * holds ~73 MB more RSS before it does anything (31 MB of it V8 heap: module records and the
 * source text V8 keeps for lazy compilation). Bundled, only what the service uses stays (its
 * generated API clients and models mostly do not), and the operator starts ~50 MB smaller.
 *
 * The one obstacle is @dot-i/k8s-operator: it is CommonJS and `require()`s client-node, and a
 * `require()` of an ES module makes esbuild keep that module's whole namespace (14 MB). The
 * `narrowRequires` plugin answers such a require with a generated module that re-exports only the
 * names the requiring file mentions.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

/** A CommonJS package's `require()` of an ES module package, to be narrowed to the names it uses. */
export interface NarrowRequire {
  /** The ES module package required. */
  pkg: string;
  /** Files whose require of `pkg` is narrowed (matched against the requiring file's path). */
  importer: RegExp;
}

export interface NodeBundleOptions {
  /** The repository root: entry and outfile are relative to it, packages resolve from it. */
  root: string;
  /** The service's entry module (TypeScript). */
  entry: string;
  outfile: string;
  /** Export conditions, e.g. `@vdi/source` for the workspace libraries' TypeScript sources. */
  conditions?: string[];
  /** Packages left to `node_modules` at run time (optional native add-ons). */
  external?: string[];
  narrowRequires?: NarrowRequire[];
}

export interface BundleResult {
  outfile: string;
  bytes: number;
  /**
   * Whether the bundle is ASCII only (V8 then keeps its source at one byte per character; see
   * asciiOnly). False when a regular expression or `String.raw` template holds other characters.
   */
  ascii: boolean;
  /** Source files in the bundle. */
  modules: number;
  /** Bytes in the bundle by npm package (`(workspace)` for the repository's own code). */
  byPackage: Record<string, number>;
  /** The names each narrowed require keeps, by requiring file. */
  narrowed: Record<string, string[]>;
}

/**
 * CommonJS code in an ES module bundle still calls `require` for Node's built-ins (`fs`, `https`):
 * esbuild leaves those calls to a `require` in scope, which an ES module does not have.
 */
const REQUIRE_BANNER =
  "import { createRequire as __vdiCreateRequire } from 'node:module';\n" +
  'const require = __vdiCreateRequire(import.meta.url);';

/**
 * `text` in ASCII only where that changes nothing but comments: every non-ASCII UTF-16 code unit
 * written as a `\\uXXXX` escape. V8 keeps a script's source text for as long as its functions
 * live (lazy compilation), and one character beyond Latin-1 anywhere makes the whole string two
 * bytes per character: the operator's 6.3 MB bundle was a 12.7 MB string in its heap because of
 * 69 such characters, all in comments (`// “-” | “?”` in js-yaml, `§` and `—` in ip-address).
 * esbuild writes strings and identifiers in ASCII already (its default charset), but keeps
 * comments, regular expressions and `String.raw` templates as they are, and there an escape
 * would change the program. So the escaped text is checked: both texts minified (comments gone)
 * must be the same program; if they are not, `text` is returned unchanged.
 */
export async function asciiOnly(text: string): Promise<{ text: string; ascii: boolean }> {
  const escaped = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escaped === text) return { text, ascii: true };
  const program = async (t: string) =>
    (await esbuild.transform(t, { minifyWhitespace: true, legalComments: 'none', format: 'esm' })).code;
  return (await program(escaped)) === (await program(text))
    ? { text: escaped, ascii: true }
    : { text, ascii: false };
}

/** The identifiers a file's text mentions (a superset of the names it reads from a module). */
export function mentionedNames(text: string): Set<string> {
  return new Set(text.match(/[A-Za-z_$][\w$]*/g) ?? []);
}

/** `pkg`'s exports that `used` names (never default), sorted: what a narrowed require keeps. */
export function keptNames(exports: readonly string[], used: Set<string>): string[] {
  return exports.filter((n) => n !== 'default' && used.has(n)).sort();
}

/** The module a narrowed require is answered with: `pkg`'s exports that `used` names, and only those. */
export function narrowedModule(pkg: string, exports: readonly string[], used: Set<string>): string {
  return reexports(pkg, keptNames(exports, used));
}

const reexports = (pkg: string, names: readonly string[]) =>
  `export { ${names.join(', ')} } from ${JSON.stringify(pkg)};\n`;

function narrowRequiresPlugin(
  root: string,
  rules: readonly NarrowRequire[],
  narrowed: Record<string, string[]>,
): esbuild.Plugin {
  const exportsOf = new Map<string, Promise<string[]>>();
  const namesOf = (pkg: string) => {
    let names = exportsOf.get(pkg);
    if (!names) {
      const file = createRequire(path.join(root, 'package.json')).resolve(pkg);
      names = import(pathToFileURL(file).href).then((m: object) => Object.keys(m));
      exportsOf.set(pkg, names);
    }
    return names;
  };
  return {
    name: 'narrow-requires',
    setup(build) {
      if (!rules.length) return;
      // Only the packages named by a rule come here, not every import of the bundle.
      const escaped = rules.map((r) => r.pkg.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
      build.onResolve({ filter: new RegExp(`^(?:${escaped.join('|')})$`) }, (args) => {
        if (args.kind !== 'require-call') return undefined;
        const rule = rules.find((r) => r.pkg === args.path && r.importer.test(args.importer));
        return rule
          ? {
              path: args.importer,
              namespace: 'narrow-require',
              pluginData: { pkg: rule.pkg, importer: args.importer },
            }
          : undefined;
      });
      build.onLoad({ filter: /.*/, namespace: 'narrow-require' }, async (args) => {
        const { pkg, importer } = args.pluginData as { pkg: string; importer: string };
        const keep = keptNames(await namesOf(pkg), mentionedNames(readFileSync(importer, 'utf8')));
        narrowed[path.relative(root, importer)] = keep;
        return { contents: reexports(pkg, keep), loader: 'js', resolveDir: path.dirname(importer) };
      });
    },
  };
}

/** The npm package a bundled file comes from (the innermost node_modules), or `(workspace)`. */
export function packageOf(file: string): string {
  const parts = file.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) return '(workspace)';
  return parts[i + 1]?.startsWith('@') ? `${parts[i + 1]}/${parts[i + 2]}` : (parts[i + 1] ?? '(workspace)');
}

/** Bundles one service (~2 s). */
export async function bundleNodeService(o: NodeBundleOptions): Promise<BundleResult> {
  const narrowed: Record<string, string[]> = {};
  const outfile = path.resolve(o.root, o.outfile);
  const result = await esbuild.build({
    entryPoints: [path.resolve(o.root, o.entry)],
    outfile,
    absWorkingDir: o.root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Not minified: stack traces and profiles keep readable lines, and esbuild's `// <path>`
    // line before each module tells which source file a line of the bundle comes from.
    conditions: o.conditions ?? [],
    external: o.external ?? [],
    banner: { js: REQUIRE_BANNER },
    plugins: [narrowRequiresPlugin(o.root, o.narrowRequires ?? [], narrowed)],
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  const output = result.metafile.outputs[path.relative(o.root, outfile)];
  const file = result.outputFiles.find((f) => f.path === outfile);
  if (!output || !file) throw new Error(`esbuild made no ${outfile}`);
  mkdirSync(path.dirname(outfile), { recursive: true });
  const source = await asciiOnly(file.text);
  writeFileSync(outfile, source.text);
  const byPackage: Record<string, number> = {};
  for (const [file, v] of Object.entries(output.inputs)) {
    const k = packageOf(file);
    byPackage[k] = (byPackage[k] ?? 0) + v.bytesInOutput;
  }
  return {
    outfile,
    bytes: source.text.length,
    ascii: source.ascii,
    modules: Object.keys(output.inputs).length,
    byPackage,
    narrowed,
  };
}

/** The operator (apps/operator) as its image runs it. */
export function operatorBundleOptions(root: string, outfile: string): NodeBundleOptions {
  return {
    root,
    entry: 'apps/operator/src/main.ts',
    outfile,
    conditions: ['@vdi/source'],
    // ws loads these optional add-ons if they are installed and does without them otherwise.
    external: ['bufferutil', 'utf-8-validate'],
    narrowRequires: [
      { pkg: '@kubernetes/client-node', importer: /[\\/]node_modules[\\/]@dot-i[\\/]k8s-operator[\\/]/ },
    ],
  };
}
