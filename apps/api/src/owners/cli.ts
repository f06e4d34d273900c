/**
 * The owner migration, for an admin (README "Ownership"):
 *
 *   node --conditions=@vdi/source --import tsx apps/api/src/owners/cli.ts \
 *     --mapping owners.txt [--issuer <VDI_OIDC_ISSUER>] [--namespace vdi-sessions] [--apply]
 *
 * (`node dist/owners/cli.js …` from a build.) The cluster is $KUBECONFIG's, with the rights to
 * read and patch sessions and persistent volume claims in the sessions namespace. Without
 * --apply it only prints the plan. Exit status: 0 done (or planned), 1 a step failed, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { DEFAULT_SESSIONS_NAMESPACE } from '@vdi/crd-types';
import { KubeJsonClient } from '@vdi/kube-client';
import { describePlan, MappingError, parseOwnerMapping } from './migration.js';
import { runOwnerMigration } from './run.js';

const USAGE =
  'usage: owners/cli.ts --mapping <file: lines "<e-mail> <subject>"> [--issuer <url>] [--namespace <ns>] [--apply]';

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parse() {
  try {
    return parseArgs({
      options: {
        mapping: { type: 'string' },
        issuer: { type: 'string', default: process.env.VDI_OIDC_ISSUER ?? '' },
        namespace: {
          type: 'string',
          default: process.env.VDI_SESSIONS_NAMESPACE ?? DEFAULT_SESSIONS_NAMESPACE,
        },
        apply: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
}

const args = parse();
if (!args.mapping) fail(`--mapping is required\n${USAGE}`, 2);
if (!args.issuer) fail(`--issuer (or VDI_OIDC_ISSUER) is required: the issuer the API trusts\n${USAGE}`, 2);

let mapping: ReturnType<typeof parseOwnerMapping>;
try {
  mapping = parseOwnerMapping(readFileSync(args.mapping, 'utf8'), args.issuer);
} catch (err) {
  if (err instanceof MappingError || (err as NodeJS.ErrnoException).code === 'ENOENT')
    fail(`${args.mapping}: ${(err as Error).message}`, 2);
  throw err;
}

const kc = new k8s.KubeConfig();
kc.loadFromDefault();
const kube = new KubeJsonClient(kc);
try {
  const run = await runOwnerMigration(kube, { namespace: args.namespace, mapping, apply: args.apply });
  const lines = describePlan(run.plan);
  process.stdout.write(
    `${args.apply ? 'owner migration' : 'owner migration plan (nothing written; add --apply)'} in ${args.namespace}, issuer ${args.issuer}:\n` +
      (lines.length ? lines.map((l) => `  ${l}\n`).join('') : '  nothing from before owners is left\n'),
  );
  if (args.apply) {
    process.stdout.write(`applied ${run.applied.length} of ${run.plan.steps.length} step(s)\n`);
    for (const f of run.failed)
      process.stdout.write(`  failed   ${f.step.kind} ${f.step.name}: ${f.error}\n`);
  }
  process.exitCode = run.failed.length ? 1 : 0;
} finally {
  kube.close();
}
