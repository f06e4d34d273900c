/**
 * TURN over TLS on 443, as the prod overlay ships it (deploy/kustomize/overlays/prod/turn-tls.yaml):
 * Traefik's websecure entrypoint terminates TLS for the TURN host (SNI) with the default
 * certificate and passes the stream to coturn's TCP listener; media is still relayed over UDP.
 * Real Traefik, real coturn with the platform's relay policy, coturn's own client through a TLS
 * connection that names the TURN host, as a browser's `turns:` does.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { KubeJsonClient, type KubeObject } from '@vdi/kube-client';
import {
  coturnPolicyArgs,
  DEFAULT_RELAY_POLICY,
  mintTurnCredentials,
  type TurnCredentials,
} from '@vdi/session-spec';
import {
  createTestNamespace,
  ensureCluster,
  freePort,
  RELAY_PORTS,
  runTurnClient,
  startCoturn,
  testKubeConfig,
  waitFor,
  type Coturn,
  type TestNamespace,
} from '@vdi/testing';
import { repoRoot } from '@vdi/controlplane';
import { silentLogger } from '../src/log.js';
import { startTraefik, type RunningTraefik } from '../src/traefik.js';

const TURN_HOST = 'turn.vdi.localhost';

/** An address of this machine that is not loopback (an EndpointSlice refuses loopback). */
function hostAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('this machine has no non-loopback IPv4 address for coturn to listen on');
}

/** A TCP port on loopback whose connections are carried over TLS to `target`, naming `servername`. */
async function tlsForwarder(
  target: number,
  servername: string,
  ca: string,
): Promise<{ port: number; close(): void }> {
  const server = net.createServer((plain) => {
    const secure = tls.connect({ host: '127.0.0.1', port: target, servername, ca });
    plain.pipe(secure).pipe(plain);
    const end = () => {
      plain.destroy();
      secure.destroy();
    };
    plain.on('error', end).on('close', end);
    secure.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe('TURN over TLS through Traefik (the prod overlay’s turn-tls route)', () => {
  const secret = randomBytes(24).toString('base64url');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vdi-turn-tls-'));
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  let ns: TestNamespace;
  let client: KubeJsonClient;
  let coturn: Coturn;
  let traefik: RunningTraefik;
  let tlsPort: number;
  const creds = (identity: string): TurnCredentials =>
    mintTurnCredentials(secret, identity, Math.floor(Date.now() / 1000), 600);

  beforeAll(async () => {
    const kubeconfig = ensureCluster();
    ns = await createTestNamespace('turntls');
    client = new KubeJsonClient(testKubeConfig());
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${TURN_HOST}`,
        '-addext',
        `subjectAltName=DNS:${TURN_HOST}`,
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    const ip = hostAddress();
    coturn = await startCoturn({
      secret,
      host: ip,
      // The platform's policy, its peers being this relay's own address (two allocations here).
      policyArgs: coturnPolicyArgs({
        ...DEFAULT_RELAY_POLICY,
        peerCidrs: [`${ip}/32`],
        totalQuota: RELAY_PORTS,
      }),
    });
    // coturn as the Service the route names: no selector, its address in an EndpointSlice.
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'coturn', namespace: ns.name },
        spec: { ports: [{ name: 'turn-tcp', port: 3478, targetPort: coturn.port, protocol: 'TCP' }] },
      } as KubeObject,
      'vdi-tests',
    );
    await client.apply(
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'coturn', namespace: ns.name, labels: { 'kubernetes.io/service-name': 'coturn' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [ip], conditions: { ready: true } }],
        ports: [{ name: 'turn-tcp', port: coturn.port, protocol: 'TCP' }],
      } as unknown as KubeObject,
      'vdi-tests',
    );
    // The shipped route, with the host the overlay's replacement would give it.
    const shipped = parseAllDocuments(
      readFileSync(path.join(repoRoot, 'deploy/kustomize/overlays/prod/turn-tls.yaml'), 'utf8'),
    )[0]!.toJSON() as KubeObject & { spec: { routes: { match: string }[] } };
    shipped.metadata = { ...shipped.metadata, namespace: ns.name };
    for (const r of shipped.spec.routes) r.match = r.match.replace(/`[^`]*`/, `\`${TURN_HOST}\``);
    await client.apply(shipped, 'vdi-tests');

    tlsPort = await freePort();
    traefik = await startTraefik({
      kubeconfig,
      webPort: await freePort(),
      adminPort: await freePort(),
      namespaces: [ns.name],
      websecure: { port: tlsPort, certFile, keyFile },
      log: silentLogger,
    });
    await waitFor('Traefik serving the turn-tls TCP router', async () => {
      const r = await fetch(`${traefik.adminUrl}/api/tcp/routers`).catch(() => undefined);
      const routers = r?.ok ? ((await r.json()) as { rule: string; status: string }[]) : [];
      return routers.some((x) => x.rule.includes(TURN_HOST) && x.status === 'enabled');
    });
  }, 180_000);

  afterAll(async () => {
    await traefik?.stop();
    await coturn?.stop();
    await ns?.cleanup();
    client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('relays UDP media for a client that reaches coturn only through TLS on the websecure entrypoint', async () => {
    const fwd = await tlsForwarder(tlsPort, TURN_HOST, readFileSync(certFile, 'utf8'));
    try {
      const c = creds('vdi-sessions.tls.00000001');
      // -t: TCP to the server (here: into the TLS tunnel); -y: two allocations relay to each other.
      const r = await runTurnClient({ host: '127.0.0.1', port: fwd.port }, c.username, c.password, [
        '-t',
        '-y',
        '-c',
        '-n',
        '2',
      ]);
      expect(r.output).not.toMatch(/error 4\d\d/);
      expect(r.sent).toBeGreaterThan(0);
      expect(r.received).toBe(r.sent);
      // coturn saw the allocation, authenticated with the minted credentials.
      expect(readFileSync(coturn.logFile, 'utf8')).toMatch(
        new RegExp(
          `user <${c.username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}>.*ALLOCATE processed, success`,
        ),
      );
    } finally {
      fwd.close();
    }
  });

  it('reaches no coturn for a TLS client that names another host', async () => {
    const fwd = await tlsForwarder(tlsPort, 'portal.vdi.localhost', readFileSync(certFile, 'utf8'));
    try {
      const c = creds('vdi-sessions.tls.00000002');
      const r = await runTurnClient(
        { host: '127.0.0.1', port: fwd.port },
        c.username,
        c.password,
        ['-t', '-y', '-c', '-n', '1'],
        15_000,
      );
      expect(r.received).toBe(0);
      expect(readFileSync(coturn.logFile, 'utf8')).not.toContain(c.username);
    } finally {
      fwd.close();
    }
  });
});
