/**
 * The local Keycloak's command line:
 *   node --conditions=@vdi/source --import tsx tools/keycloak/src/cli.ts up | down | status [--json]
 *   up       start (or reuse) Keycloak with the `vdi` realm; fetches the distribution the first
 *            time; prints the issuer on stdout, timings and demo users on stderr
 *   down     stop it; no process or port is left behind
 *   status   whether it runs, its memory, URLs, demo users (exit 1 when not running)
 * Environment: VDI_KEYCLOAK_PORT (8180), VDI_KEYCLOAK_MANAGEMENT_PORT (9180), VDI_KEYCLOAK_VERSION,
 * VDI_KEYCLOAK_JAVA_HOME, VDI_PORTAL_ORIGINS, VDI_STATE_DIR (./.vdi), VDI_CACHE (~/.cache/vdi-platform).
 */
import { BOOTSTRAP_ADMIN, DEMO_USERS } from './config.js';
import { start, status, stop } from './keycloak.js';

const err = (m: string) => process.stderr.write(`[keycloak] ${m}\n`);

function printUsers(): void {
  err('demo users of realm vdi (username/password → realm roles):');
  for (const u of Object.values(DEMO_USERS)) {
    err(`  ${u.username}/${u.password}  ${u.email}  → ${u.roles.join(', ')}`);
  }
  err(`admin console: user ${BOOTSTRAP_ADMIN.username}/${BOOTSTRAP_ADMIN.password} (master realm)`);
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up': {
      const r = await start();
      if (!r.reused) {
        const parts = [
          r.fetchMs > 0 && `fetch+unpack ${(r.fetchMs / 1000).toFixed(1)}s`,
          `${r.cold ? 'cold' : 'warm'} start ${(r.startMs / 1000).toFixed(1)}s`,
        ].filter(Boolean);
        err(`timings: ${parts.join(', ')}`);
      }
      const s = await status();
      err(`pid ${r.pid}, RSS ${s.rssMiB ?? '?'} MiB, Java ${r.java.version}, log ${r.log}`);
      err(`discovery ${s.urls.discovery}`);
      printUsers();
      process.stdout.write(`${r.issuer}\n`);
      return 0;
    }
    case 'down':
      await stop();
      return 0;
    case 'status': {
      const s = await status();
      if (rest.includes('--json')) {
        process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      } else {
        const lines = [
          `keycloak: ${s.running ? 'running' : 'not running'}${s.pid ? ` (pid ${s.pid}, RSS ${s.rssMiB ?? '?'} MiB)` : ''}`,
          `version: ${s.version}${s.java ? ` on Java ${s.java}` : ''}`,
          `issuer: ${s.issuer}`,
          `jwks: ${s.urls.jwks}`,
          `token endpoint: ${s.urls.token}`,
          `admin console: ${s.urls.adminConsole}`,
          `health: ${s.urls.health}`,
          `log: ${s.log}`,
        ];
        if (s.startMs !== undefined)
          lines.push(`last start: ${(s.startMs / 1000).toFixed(1)}s (${s.cold ? 'cold' : 'warm'})`);
        process.stdout.write(lines.join('\n') + '\n');
        if (s.running) printUsers();
      }
      return s.running ? 0 : 1;
    }
    default:
      process.stderr.write('usage: cli.ts up | down | status [--json]\n');
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
