/**
 * The benchmark's command line: sizes (a preset, each overridable), which phases run, where the
 * report goes. Pure, so `--help` and the defaults are tested.
 */
import type { Persistence } from './kube.js';

export const PHASES = [
  'floor',
  'operator',
  'whatif',
  'profile',
  'steady',
  'api',
  'chaos',
  'desktop',
] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  /** Sessions in the burst (floor and operator). */
  sessions: number;
  /** GPU nodes for the burst, each `gpusPerNode` GPUs × `slices` time-slices. */
  nodes: number;
  gpusPerNode: number;
  slices: number;
  /** Session creations in flight during an operator burst. */
  concurrency: number;
  /** Clients writing in parallel in the floor runs (each value one run; the fastest is the floor). */
  floorConcurrency: number[];
  /**
   * Operator bursts, each on fresh nodes, interleaved with the floor runs when both run (the
   * fastest is the operator's result, as the fastest floor run is the floor's): both sides get as
   * many tries at a quiet moment of a shared machine.
   */
  operatorRuns: number;
  /** Sessions in the cluster for the steady-state and API phases. */
  steadySessions: number;
  apiClients: number;
  apiDurationSeconds: number;
  /** createSession calls for the throughput measurement. */
  apiCreates: number;
  /** Sessions created over the chaos churn. */
  chaosSessions: number;
  /** Operator SIGKILLs come every `chaosKillMinSeconds`–`chaosKillMaxSeconds`. */
  chaosKillMinSeconds: number;
  chaosKillMaxSeconds: number;
  persistence: Persistence;
  /** VDI_WORKERS of the what-if operator runs. */
  whatifWorkers: number[];
  phases: Phase[];
  cluster: 'own' | 'shared';
  outDir: string;
  /** Report file name without extension; default the date. */
  name?: string;
  /** Write the release's reference report (`reference-<version>.*`). */
  reference: boolean;
  keepCluster: boolean;
}

export const SIZES = {
  full: { sessions: 500, nodes: 64, steadySessions: 5000, apiCreates: 200, chaosSessions: 300 },
  small: { sessions: 100, nodes: 16, steadySessions: 1000, apiCreates: 50, chaosSessions: 60 },
  tiny: { sessions: 20, nodes: 4, steadySessions: 100, apiCreates: 10, chaosSessions: 20 },
} as const;

export const USAGE = `usage: npm run bench -- [options]
  --size full|small|tiny     preset sizes (default full: 500 sessions on 64 nodes, 5000 steady, chaos 300)
  --sessions N               burst size (floor and operator)
  --nodes M                  GPU nodes for the burst (each --gpus-per-node × --slices time-slices)
  --gpus-per-node G          default 1
  --slices S                 time-slices per GPU, default 8
  --concurrency C            session creations in flight in the operator bursts, default 50
  --floor-concurrency C[,C]  parallel writers of the floor runs; the fastest run is the floor (default 8,16,50)
  --operator-runs N          operator bursts, interleaved with the floor runs; the fastest counts
                             (default: as many as the floor runs)
  --steady N                 sessions for the steady-state and API phases
  --api-clients N            concurrent API clients, default 50
  --api-duration S           seconds per API query measurement, default 10
  --api-creates N            createSession calls for the throughput measurement
  --chaos N                  sessions created over the chaos churn
  --chaos-kill S[-S]         seconds between operator SIGKILLs (random in the range), default 2-5
  --persistence user|session|none   the template's home volume, default user (the platform default)
  --whatif-workers N[,N]     VDI_WORKERS of the what-if runs, default 16 (the operator's default is 4)
  --phases a,b,…             of ${PHASES.join(', ')} (default all)
  --cluster own|shared       own throw-away cluster (default) or the shared local one
  --out DIR                  default bench/results
  --name NAME                report file name (default the date)
  --reference                write the release's reference report, reference-<version>.*
  --keep-cluster             leave the benchmark's own cluster running (with the steady phase's sessions)
  --render FILE.json         only write FILE.md and FILE.svg again from a report's data`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function positiveInt(flag: string, v: string | undefined, min = 1): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} needs an integer ≥ ${min}, got ${v}`);
  return n;
}

export function parseOptions(argv: readonly string[], defaultOutDir: string): BenchOptions {
  const sizeArg = argv.indexOf('--size');
  const size = sizeArg >= 0 ? argv[sizeArg + 1] : 'full';
  if (!size || !(size in SIZES))
    throw new UsageError(`--size must be one of ${Object.keys(SIZES).join(', ')}`);
  const preset = SIZES[size as keyof typeof SIZES];
  const o: BenchOptions = {
    sessions: preset.sessions,
    nodes: preset.nodes,
    gpusPerNode: 1,
    slices: 8,
    concurrency: 50,
    floorConcurrency: [8, 16, 50],
    operatorRuns: 0,
    steadySessions: preset.steadySessions,
    apiClients: 50,
    apiDurationSeconds: 10,
    apiCreates: preset.apiCreates,
    chaosSessions: preset.chaosSessions,
    chaosKillMinSeconds: 2,
    chaosKillMaxSeconds: 5,
    persistence: 'user',
    whatifWorkers: [16],
    phases: [...PHASES],
    cluster: 'own',
    outDir: defaultOutDir,
    reference: false,
    keepCluster: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--size':
        i++;
        break;
      case '--sessions':
        o.sessions = positiveInt(flag, value());
        break;
      case '--nodes':
        o.nodes = positiveInt(flag, value());
        break;
      case '--gpus-per-node':
        o.gpusPerNode = positiveInt(flag, value());
        break;
      case '--slices':
        o.slices = positiveInt(flag, value());
        break;
      case '--concurrency':
        o.concurrency = positiveInt(flag, value());
        break;
      case '--steady':
        o.steadySessions = positiveInt(flag, value());
        break;
      case '--api-clients':
        o.apiClients = positiveInt(flag, value());
        break;
      case '--api-duration':
        o.apiDurationSeconds = positiveInt(flag, value());
        break;
      case '--api-creates':
        o.apiCreates = positiveInt(flag, value());
        break;
      case '--chaos':
        o.chaosSessions = positiveInt(flag, value());
        break;
      case '--chaos-kill': {
        const v = value();
        const [a, b = a] = v.split('-');
        o.chaosKillMinSeconds = positiveInt(flag, a);
        o.chaosKillMaxSeconds = positiveInt(flag, b);
        if (o.chaosKillMaxSeconds < o.chaosKillMinSeconds)
          throw new UsageError(`${flag} ${v}: the range is backwards`);
        break;
      }
      case '--persistence': {
        const v = value();
        if (v !== 'user' && v !== 'session' && v !== 'none')
          throw new UsageError(`${flag} must be user, session or none`);
        o.persistence = v;
        break;
      }
      case '--floor-concurrency':
        o.floorConcurrency = value()
          .split(',')
          .map((w) => positiveInt(flag, w.trim()));
        break;
      case '--operator-runs':
        o.operatorRuns = positiveInt(flag, value());
        break;
      case '--whatif-workers':
        o.whatifWorkers = value()
          .split(',')
          .map((w) => positiveInt(flag, w.trim()));
        break;
      case '--phases': {
        const list = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const bad = list.filter((p) => !(PHASES as readonly string[]).includes(p));
        if (bad.length || list.length === 0)
          throw new UsageError(`--phases: unknown ${bad.join(', ') || '(none)'}; use ${PHASES.join(', ')}`);
        o.phases = PHASES.filter((p) => list.includes(p));
        break;
      }
      case '--cluster': {
        const v = value();
        if (v !== 'own' && v !== 'shared') throw new UsageError('--cluster must be own or shared');
        o.cluster = v;
        break;
      }
      case '--out':
        o.outDir = value();
        break;
      case '--name':
        o.name = value();
        break;
      case '--reference':
        o.reference = true;
        break;
      case '--keep-cluster':
        o.keepCluster = true;
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  // As many tries as the floor has, unless told otherwise.
  if (o.operatorRuns === 0) o.operatorRuns = o.floorConcurrency.length;
  if (o.phases.includes('api') && !o.phases.includes('steady'))
    throw new UsageError(
      '--phases api needs steady: the API is measured with the steady state’s sessions in the cluster',
    );
  if (['floor', 'operator', 'whatif', 'profile'].some((p) => o.phases.includes(p as Phase))) {
    const slices = o.nodes * o.gpusPerNode * o.slices;
    if (slices < o.sessions)
      throw new UsageError(
        `${o.sessions} sessions need ${o.sessions} GPU time-slices; ${o.nodes} nodes have ${slices}`,
      );
  }
  return o;
}
