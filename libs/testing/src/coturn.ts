/**
 * A real coturn for tests: started on loopback with the TURN REST API (`use-auth-secret`), and
 * coturn's own client to try an allocation against it. Nothing is mocked, so a test proves what a
 * browser or Selkies would experience.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const TURNSERVER = '/usr/bin/turnserver';
export const TURNUTILS_UCLIENT = '/usr/bin/turnutils_uclient';

export interface Coturn {
  host: string;
  port: number;
  realm: string;
  /** coturn's own log (verbose: every 401 and every successful ALLOCATE names the username). */
  logFile: string;
  /** The relay ports (--min-port/--max-port): where relayed media comes from and goes to. */
  relayPorts: { min: number; max: number };
  /** Stops coturn (SIGTERM, then SIGKILL) and removes its temporary directory. Idempotent. */
  stop(): Promise<void>;
}

export interface CoturnOptions {
  /** The `static-auth-secret` credentials are minted with. */
  secret: string;
  /**
   * The address coturn listens and relays on (default 127.0.0.1). The local cluster's real node
   * reaches the host at its bridge address, so WebRTC desktops there need coturn on that address.
   */
  host?: string;
  realm?: string;
  startTimeoutMs?: number;
  /**
   * The relay policy's flags (`loopbackRelayPolicyArgs` of @vdi/session-spec, with at most
   * RELAY_PORTS allocations). Default: loopback peers only, and no other policy.
   */
  policyArgs?: string[];
}

/** How many relay ports a test coturn has (its total allocation quota can be at most this). */
export const RELAY_PORTS = 64;

function tailOf(file: string, lines = 20): string {
  if (!existsSync(file)) return '(no log file)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

// coturn states why it refused its options first, then prints its whole usage text.
function headOf(file: string, lines = 5): string {
  if (!existsSync(file)) return '(no output file)';
  return readFileSync(file, 'utf8').split('\n').slice(0, lines).join('\n');
}

/** A port free on `host` for both TCP and UDP, since coturn listens on both. */
async function freePort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.once('error', () => resolve(false));
      sock.bind(port, host, () => sock.close(() => resolve(true)));
    });
    if (port && udpFree) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${host}`);
}

/**
 * True when a STUN Binding request to host:port over UDP gets a Binding success response. Unlike a
 * TCP connect, this cannot be answered by some other process that happens to hold the port.
 */
export function stunBindingAnswered(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const txid = randomBytes(12);
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0); // Binding request
    req.writeUInt16BE(0, 2); // no attributes
    req.writeUInt32BE(0x2112a442, 4); // magic cookie
    txid.copy(req, 8);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (msg) => {
      if (msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(txid)) done(true);
    });
    sock.send(req, port, host);
  });
}

function tcpAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.setTimeout(500, () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Starts `/usr/bin/turnserver` on 127.0.0.1 (or `host`) with the TURN REST API and the given secret, and
 * resolves once it answers STUN over UDP and accepts TCP. Fails with the log's tail when coturn
 * exits or does not come up. Call `stop()` in afterAll; should a test forget, a hook kills coturn
 * when the worker exits normally (not when it is killed by a signal).
 */
export async function startCoturn(opts: CoturnOptions): Promise<Coturn> {
  if (!existsSync(TURNSERVER)) throw new Error(`${TURNSERVER} is missing (Debian package coturn)`);
  const host = opts.host ?? '127.0.0.1';
  const realm = opts.realm ?? 'vdi.test';
  const port = await freePort(host);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vdi-coturn-'));
  const logFile = path.join(dir, 'turnserver.log');
  const outFile = path.join(dir, 'turnserver.out');
  // Above Linux's ephemeral range (32768-60999), so the kernel's own port choices rarely collide.
  const minPort = randomInt(61_000, 65_400);
  const args = [
    '-n', // no config file: only what is written here applies
    `--listening-ip=${host}`,
    `--listening-port=${port}`,
    `--relay-ip=${host}`,
    `--min-port=${minPort}`,
    `--max-port=${minPort + RELAY_PORTS - 1}`,
    '--use-auth-secret',
    `--static-auth-secret=${opts.secret}`,
    `--realm=${realm}`,
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    // turnutils_uclient -y relays between two allocations of its own, both on 127.0.0.1, so the
    // test needs loopback peers: coturn refuses them (403 Forbidden IP) without
    // --allow-loopback-peers, whatever allowed-peer-ip says. Every other peer is denied.
    // Test-only: a production coturn must never relay to its own loopback.
    ...(opts.policyArgs ?? [
      '--allow-loopback-peers',
      '--denied-peer-ip=0.0.0.0-255.255.255.255',
      '--allowed-peer-ip=127.0.0.1',
    ]),
    `--log-file=${logFile}`,
    '--simple-log', // the log file name as given, without coturn's date/pid suffix
    '--no-stdout-log',
    '--verbose',
    `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    // Otherwise coturn opens the machine-wide /var/lib/turn/turndb.
    `--userdb=${path.join(dir, 'turndb')}`,
  ];
  // stdout/stderr only carry what coturn prints before its log file is open (e.g. bad options).
  const fd = openSync(outFile, 'a');
  const child = spawn(TURNSERVER, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start ${TURNSERVER}`);
  }
  // A crashed or forgotten test must not leave coturn running after the worker exits.
  const killOnExit = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', killOnExit);

  const shownArgs = args.map((a) => (a.startsWith('--static-auth-secret=') ? '--static-auth-secret=…' : a));
  const diagnostics = () =>
    `--- ${logFile}\n${tailOf(logFile)}\n--- ${outFile} (head)\n${headOf(outFile)}\n--- ${TURNSERVER} ${shownArgs.join(' ')}`;

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (!exited(child)) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        let timer: NodeJS.Timeout | undefined;
        const graceful = await Promise.race([
          gone.then(() => true),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5_000))),
        ]);
        clearTimeout(timer);
        if (!graceful) {
          killOnExit();
          await gone;
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  for (;;) {
    if (exited(child)) {
      const why = `exit code ${child.exitCode}, signal ${child.signalCode}`;
      const diag = diagnostics();
      await stop();
      throw new Error(`coturn exited during start-up (${why})\n${diag}`);
    }
    if ((await stunBindingAnswered(host, port)) && (await tcpAccepts(host, port))) break;
    if (Date.now() > deadline) {
      const diag = diagnostics();
      await stop();
      throw new Error(`coturn did not answer on ${host}:${port} in time\n${diag}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host, port, realm, logFile, relayPorts: { min: minPort, max: minPort + RELAY_PORTS - 1 }, stop };
}

export interface TurnClientRun {
  code: number | null;
  /** Everything the client printed (coturn's error codes appear as `error 4xx (reason)`). */
  output: string;
  /** Messages sent and received through the relay, summed over the client's sessions. */
  sent: number;
  received: number;
}

/**
 * Runs `turnutils_uclient` against `server` with long-term credentials and the given flags
 * (e.g. `-T` for a TCP relay, `-e <peer> -r <port>` to relay to a peer, `-m N` for N clients).
 */
export async function runTurnClient(
  server: { host: string; port: number },
  username: string,
  password: string,
  flags: string[],
  timeoutMs = 30_000,
): Promise<TurnClientRun> {
  const args = [...flags, '-p', String(server.port), '-u', username, '-w', password, server.host];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(TURNUTILS_UCLIENT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (c) => {
      clearTimeout(timer);
      resolve({ code: c, output: out });
    });
  });
  const totals = [...output.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].pop();
  return { code, output, sent: Number(totals?.[1] ?? 0), received: Number(totals?.[2] ?? 0) };
}

export interface AllocationAttempt {
  /** coturn granted the allocations and relayed every test message through them. */
  accepted: boolean;
  /** coturn refused the allocation (the client gave up with "Cannot complete Allocation"). */
  refused: boolean;
  exitCode: number | null;
  output: string;
  /** coturn's log lines naming this username (its 401s and ALLOCATE results). */
  serverLog: string[];
}

/**
 * Runs coturn's own client, `turnutils_uclient`, with the given long-term credentials: two
 * allocations relaying one message to each other (`-y`), so no peer process is needed. coturn's
 * verdict shows in the exit code and output: 0 plus a final "tot_send_msgs=N, tot_recv_msgs=N"
 * with N > 0 when the allocations worked; non-zero plus "Cannot complete Allocation" when
 * coturn answered 401 to the authenticated ALLOCATE. (Avoid `-O`: it exits 0 even when refused.)
 */
export async function tryTurnAllocation(
  server: { host: string; port: number; logFile: string },
  username: string,
  password: string,
  opts: { transport?: 'udp' | 'tcp'; timeoutMs?: number } = {},
): Promise<AllocationAttempt> {
  const { code, output } = await runTurnClient(
    server,
    username,
    password,
    [
      ...(opts.transport === 'tcp' ? ['-t'] : []),
      '-y', // client-to-client: relay between two allocations of this client
      '-c', // no RTCP allocations: half the allocations, same proof
      '-n',
      '1',
    ],
    opts.timeoutMs,
  );
  const totals = [...output.matchAll(/start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/g)].pop();
  const sent = Number(totals?.[1] ?? 0);
  const received = Number(totals?.[2] ?? 0);
  const serverLog = existsSync(server.logFile)
    ? readFileSync(server.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`user <${username}>`) || l.includes(`username=<${username}>`))
    : [];
  return {
    accepted: code === 0 && sent > 0 && received === sent,
    refused: code !== 0 && output.includes('Cannot complete Allocation'),
    exitCode: code,
    output,
    serverLog,
  };
}
