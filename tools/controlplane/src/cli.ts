/**
 * `npm run cluster:up | cluster:down | cluster:status` — the local control plane's command line.
 *   up            start (or reuse) the cluster; builds the binaries the first time
 *   down [--purge] stop every process; --purge also deletes etcd data, PKI and logs
 *   status [--json] what runs, its memory, the versions
 *   build         build (or verify the cache of) the binaries only
 * As root, `up` also starts the real node vdi-worker-1 (@vdi/node) and `down` stops it and restores the host.
 * Environment: VDI_GPU_NODES (default NVIDIA-L4:1,NVIDIA-H100-80GB-HBM3:1), VDI_GPU_REPLICAS (8),
 * VDI_STATE_DIR (./.vdi), VDI_CACHE (~/.cache/vdi-platform), VDI_*_PORT.
 */
import { down, ensureBinaries, status, up } from './cluster.js';

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      const r = await up();
      process.stdout.write(`${r.kubeconfig}\n`);
      return 0;
    }
    case 'down':
      await down(undefined, undefined, rest.includes('--purge'));
      return 0;
    case 'build':
      ensureBinaries();
      return 0;
    case 'status': {
      const s = await status();
      if (rest.includes('--json')) {
        process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      } else {
        process.stdout.write(
          `cluster: ${s.running ? 'running' : 'not running'}\nkubeconfig: ${s.kubeconfig}\n`,
        );
        for (const p of s.processes) {
          process.stdout.write(
            `  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${p.alive ? 'alive' : 'dead '} ${p.rssMiB ?? '-'} MiB  log ${p.log}\n`,
          );
        }
        if (s.node) {
          const n = s.node;
          const state = n.ready
            ? 'Ready'
            : n.running
              ? 'running, not Ready'
              : n.crashed
                ? 'crashed (next up/down cleans up)'
                : 'stopped';
          process.stdout.write(`real node ${n.name}: ${state}; InternalIP ${n.nodeIp}, pods ${n.podCidr}\n`);
          for (const p of n.processes) {
            process.stdout.write(
              `  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${p.alive ? 'alive' : 'dead '} ${p.rssMiB ?? '-'} MiB  log ${p.log}\n`,
            );
          }
        } else {
          process.stdout.write('real node: not started (needs root and `npm run setup`)\n');
        }
        const total =
          s.processes.reduce((a, p) => a + (p.rssMiB ?? 0), 0) +
          (s.node?.processes ?? []).reduce((a, p) => a + (p.rssMiB ?? 0), 0);
        process.stdout.write(`  total RSS ${total} MiB\nversions: ${JSON.stringify(s.versions)}\n`);
      }
      return s.running ? 0 : 1;
    }
    default:
      process.stderr.write('usage: cli.ts up | down [--purge] | status [--json] | build\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[cluster] error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
