/**
 * Desktop isolation, enforced and not only rendered (issue #15, item 10). On the local cluster's
 * real node (`vdi-worker-1`: kubelet + containerd + the CNI bridge, NetworkPolicies enforced by
 * kube-router's controller, tools/node), a real desktop — the platform's Selkies image, its pod and
 * NetworkPolicy rendered by `renderSession` exactly as the operator renders them — probes the
 * network from inside its own container (`kubectl exec` of Python in the desktop container):
 *
 * - unreachable: another desktop (its port 8080, TCP and UDP), the kubelet and a host service on
 *   the node's address and on the host's other addresses, TURN over TCP, a DNS pod's other ports,
 *   private, CGNAT and link-local ranges;
 * - reachable: cluster DNS (a stand-in DNS pod, UDP and TCP 53), the TURN relay (a real coturn on
 *   the node's address: a STUN binding over UDP is answered), the TURN REST endpoint (the desktop's
 *   own start waits for it), what the template's `egress` allows (a public address with `internet`,
 *   a listed private CIDR);
 * - the one exception kube-router makes: a host port in the NodePort range (30000–32767) is open
 *   from every pod (see tools/node/README.md).
 *
 * A second session's desktop (a stand-in pod with that session's rendered labels and policy,
 * template egress `none`, websockets) reaches DNS only. The host (where Traefik and the kubelet's
 * probes come from) and the ingress controller's pods reach both desktops; the real desktop gets
 * Ready through its /api/health probe under enforcement.
 *
 * The same probes run with enforcement turned off (the controller stopped, its rules removed) and
 * there every isolation check fails: the test proves that enforcement, not the absence of a
 * listener, is what closes those paths. The public and private "internet" addresses live in a
 * network namespace routed from the host (the host has no other way out).
 *
 * Needs root (the real node). Holds the real-node lock for the whole file.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import {
  API_VERSION,
  KIND_SESSION,
  withTemplateDefaults,
  type VDISession,
  type VDITemplate,
} from '@vdi/crd-types';
import { ensureDesktopImage } from '@vdi/desktop-image';
import {
  buildStaticGo,
  importImage,
  NODE_IP,
  NODE_NAME,
  nodeStatus,
  POD_CIDR,
  savedNodeOptions,
  setNetworkPolicyEnforcement,
  startNode,
  writeBinaryImage,
  type Release,
} from '@vdi/node';
import { REAL_DESKTOP_RESOURCES, realDesktopTemplate } from '@vdi/platform';
import {
  answerTurnRest,
  chooseEncoder,
  coturnPolicyArgs,
  DEFAULT_RELAY_POLICY,
  renderSession,
  sessionPassword,
  turnRestKey,
  type PlatformOptions,
  type RenderedSession,
} from '@vdi/session-spec';
import {
  createTestNamespace,
  ensureCluster,
  holdRealNode,
  kubeRequest,
  RELAY_PORTS,
  startCoturn,
  TEST_SESSION_KEY,
  waitFor,
  type Coturn,
  type TestNamespace,
} from '@vdi/testing';
import { repoRoot } from './tools.js';

const log = (m: string) => process.stderr.write(`[isolation] ${m}\n`);
const suffix = randomBytes(2).toString('hex');

// "The internet": a network namespace routed from the host, holding one public-looking address
// (TEST-NET-3) and addresses of each closed range. LISTED is private but listed in the template.
const OUTSIDE = {
  netns: `vdi-iso-${suffix}`,
  hostIf: `viso${suffix}h`,
  nsIf: `viso${suffix}o`,
  // A /30 of the benchmarking range, clear of the node's pods, the stand-ins and the desktop link.
  hostAddr: '198.19.254.1',
  nsAddr: '198.19.254.2',
  public: '203.0.113.7',
  listed: '10.254.77.7',
  private10: '10.254.77.8',
  private172: '172.31.254.7',
  private192: '192.168.254.7',
  cgnat: '100.64.254.7',
  linkLocal: '169.254.254.7',
};
const OUTSIDE_TARGETS = [
  OUTSIDE.public,
  OUTSIDE.listed,
  OUTSIDE.private10,
  OUTSIDE.private172,
  OUTSIDE.private192,
  OUTSIDE.cgnat,
  OUTSIDE.linkLocal,
];

let release: Release | undefined;
let kc: k8s.KubeConfig;
let stateDir: string;
let sessions: TestNamespace;
let dnsNs: TestNamespace;
let ingressNs: TestNamespace;
let coturn: Coturn | undefined;
let outsideServer: ChildProcess | undefined;
const servers: (net.Server | http.Server)[] = [];
const hostAddrs: string[] = [];
let hostPort = 0;
let nodePortRangePort = 0;
let restPort = 0;
const ip = { desktop: '', other: '', dns: '', ingress: '' };
let desktopPodName = '';

/** Probes: [kind, host, port]; `stun` is a STUN binding request over UDP, `udp` an echo. */
type Probe = ['tcp' | 'udp' | 'stun', string, number];

// Runs in the desktop container as its user (Debian's python3 is in the image). Every probe in
// parallel, 2 s each; prints {name: "open" | "closed: <why>"}.
const PROBE_SCRIPT = `
import json, os, socket, struct, sys, threading
probes = json.loads(sys.argv[1])
out = {}
def run(name, kind, host, port):
    try:
        if kind == "tcp":
            socket.create_connection((host, port), timeout=2).close()
            out[name] = "open"
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.connect((host, port))
        if kind == "stun":
            tid = os.urandom(12)
            s.send(struct.pack("!HHI", 1, 0, 0x2112A442) + tid)
            data = s.recv(2048)
            ok = len(data) >= 20 and data[0:2] == b"\\x01\\x01" and data[8:20] == tid
        else:
            s.send(b"vdi-probe")
            ok = s.recv(64) == b"vdi-probe"
        out[name] = "open" if ok else "closed: unexpected answer"
    except Exception as e:
        out[name] = "closed: " + type(e).__name__
threads = [threading.Thread(target=run, args=(n, *p)) for n, p in probes.items()]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(out, sort_keys=True))
`;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The host's IPv4 addresses other than loopback (where a host service listening on all addresses answers). */
function hostIpv4Addresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address)
    .filter((a) => a !== OUTSIDE.hostAddr);
}

async function listenTcp(host: string, port: number): Promise<net.Server> {
  const srv = net.createServer((sock) => sock.end());
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, host, () => resolve());
  });
  servers.push(srv);
  return srv;
}

/** A port of the NodePort range free on every address. */
async function freeNodeRangePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    try {
      await listenTcp('0.0.0.0', port);
      return port;
    } catch {
      /* taken: try another */
    }
  }
  throw new Error('no free port in 30000-32767');
}

/** Runs the probes inside the desktop container, through the API server and the kubelet (exec). */
async function probeFromDesktop(probes: Record<string, Probe>): Promise<Record<string, string>> {
  const exec = new k8s.Exec(kc);
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        append(chunk.toString());
        cb();
      },
    });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`exec in ${desktopPodName} timed out; stderr: ${err}`)),
      60_000,
    );
    exec
      .exec(
        sessions.name,
        desktopPodName,
        'desktop',
        ['/usr/bin/python3', '-c', PROBE_SCRIPT, JSON.stringify(probes)],
        sink((s) => (out += s)),
        sink((s) => (err += s)),
        null,
        false,
        (status) => {
          clearTimeout(timer);
          if (status.status === 'Success') resolve();
          else reject(new Error(`exec in ${desktopPodName} failed: ${status.message ?? ''} ${err}`));
        },
      )
      .catch((e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
  });
  return JSON.parse(out) as Record<string, string>;
}

function get(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

/** Probes from a stand-in pod (the httpd image's /dial endpoint, asked from the host). */
async function probeFromPod(podIp: string, probes: Record<string, Probe>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, [kind, host, port]]) => {
      if (kind === 'stun') throw new Error('stand-in pods probe tcp and udp only');
      const r = await get(
        `http://${podIp}:8080/dial?net=${kind}&addr=${encodeURIComponent(`${host}:${port}`)}`,
      );
      return [name, r.body.trim()] as const;
    }),
  );
  return Object.fromEntries(entries);
}

const opened = (results: Record<string, string>) =>
  Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v === 'open']));

// --- what the desktops probe -------------------------------------------------------------------

function desktopProbes(): Record<string, Probe> {
  return {
    'another desktop (tcp 8080)': ['tcp', ip.other, 8080],
    'another desktop (udp 8080)': ['udp', ip.other, 8080],
    'the kubelet on the node address': ['tcp', NODE_IP, 10250],
    'a host service on the node address': ['tcp', NODE_IP, hostPort],
    ...Object.fromEntries(
      hostAddrs.map((a) => [`a host service on the host address ${a}`, ['tcp', a, hostPort] as Probe]),
    ),
    'TURN over TCP': ['tcp', NODE_IP, coturn!.port],
    'the DNS pod on another port': ['tcp', ip.dns, 8080],
    'a private address (10/8)': ['tcp', OUTSIDE.private10, 80],
    'a private address (172.16/12)': ['tcp', OUTSIDE.private172, 80],
    'a private address (192.168/16)': ['tcp', OUTSIDE.private192, 80],
    'a CGNAT address (100.64/10)': ['tcp', OUTSIDE.cgnat, 80],
    'a link-local address (169.254/16)': ['tcp', OUTSIDE.linkLocal, 80],
    'cluster DNS (udp 53)': ['udp', ip.dns, 53],
    'cluster DNS (tcp 53)': ['tcp', ip.dns, 53],
    'the TURN relay (STUN over udp)': ['stun', NODE_IP, coturn!.port],
    'the TURN REST endpoint': ['tcp', NODE_IP, restPort],
    'a public address (egress internet)': ['tcp', OUTSIDE.public, 80],
    'a listed private CIDR (egress cidrs)': ['tcp', OUTSIDE.listed, 80],
    'a host port in the NodePort range': ['tcp', NODE_IP, nodePortRangePort],
  };
}

/** What must be reachable from the real desktop under enforcement; everything else must not be. */
const DESKTOP_ALLOWED = new Set([
  'cluster DNS (udp 53)',
  'cluster DNS (tcp 53)',
  'the TURN relay (STUN over udp)',
  'the TURN REST endpoint',
  'a public address (egress internet)',
  'a listed private CIDR (egress cidrs)',
  // kube-router lets pods reach local addresses on NodePorts before any policy (not our choice).
  'a host port in the NodePort range',
]);

function otherProbes(): Record<string, Probe> {
  return {
    'the real desktop (tcp 8080)': ['tcp', ip.desktop, 8080],
    'a host service on the node address': ['tcp', NODE_IP, hostPort],
    'the TURN REST endpoint': ['tcp', NODE_IP, restPort],
    'a public address': ['tcp', OUTSIDE.public, 80],
    'a listed private CIDR (not its template)': ['tcp', OUTSIDE.listed, 80],
    'cluster DNS (udp 53)': ['udp', ip.dns, 53],
  };
}
const OTHER_ALLOWED = new Set(['cluster DNS (udp 53)']);

const expected = (probes: Record<string, Probe>, allowed: Set<string>) =>
  Object.fromEntries(Object.keys(probes).map((k) => [k, allowed.has(k)]));

// --- setup ---------------------------------------------------------------------------------------

function cpuTemplate(name: string, ref: string, spec: Partial<VDITemplate['spec']>): VDITemplate {
  const base = parseYaml(
    readFileSync(path.join(repoRoot, 'deploy/kustomize/base/templates/ubuntu-xfce-cpu.yaml'), 'utf8'),
  ) as VDITemplate;
  const real = realDesktopTemplate(base, ref);
  return {
    ...real,
    metadata: { name },
    spec: withTemplateDefaults({ ...real.spec, persistence: 'none', ...spec }),
  } as VDITemplate;
}

function session(name: string, template: string): VDISession {
  return {
    apiVersion: API_VERSION,
    kind: KIND_SESSION,
    metadata: { name, namespace: sessions.name, uid: randomUUID(), generation: 1 },
    spec: { user: `${name}@example.com`, template },
  };
}

function platformOptions(): PlatformOptions {
  return {
    namespace: sessions.name,
    baseDomain: 'vdi.localhost',
    publicScheme: 'http',
    publicPort: 8088,
    accessMode: 'forwardAuth',
    forwardAuthUrl: 'http://127.0.0.1:1/auth/session',
    entryPoints: ['web'],
    gpuResourceName: 'nvidia.com/gpu',
    storageClassName: 'local-path',
    turn: { host: NODE_IP, port: coturn!.port, protocol: 'udp' },
    turnRest: { url: `http://${NODE_IP}:${restPort}`, peer: { cidrs: [`${NODE_IP}/32`] } },
    ingress: { namespace: ingressNs.name, podLabels: { 'app.kubernetes.io/name': 'traefik' } },
    turnRelayCidrs: [`${NODE_IP}/32`],
    turnRelayPorts: coturn!.relayPorts,
    // The local cluster's ranges (pods in 198.18.0.0/15, Services), and the node's own addresses:
    // closed even to a desktop with internet egress (see the report on VDI_CLUSTER_CIDRS).
    clusterCidrs: ['198.18.0.0/15', '10.96.0.0/16', ...hostAddrs.map((a) => `${a}/32`)],
    dns: { namespace: dnsNs.name, podLabels: { 'k8s-app': 'kube-dns' } },
    cpuEncoderExtraCPU: REAL_DESKTOP_RESOURCES.encoderExtraCpu,
    timeZone: 'UTC',
  };
}

/** Rendered objects are applied as the operator applies them, minus the owner reference (no VDISession object exists here). */
function asCreated<T extends { metadata?: k8s.V1ObjectMeta }>(o: T): T {
  const { ownerReferences: _drop, ...metadata } = o.metadata ?? {};
  return { ...o, metadata } as T;
}

/** A restricted stand-in pod on the real node running the test image with `args`. */
function standInPod(
  name: string,
  image: string,
  labels: Record<string, string>,
  args: string[] = [],
  sysctls: k8s.V1Sysctl[] = [],
): k8s.V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      nodeSelector: { 'vdi.kasm.io/real-node': 'true' },
      tolerations: [{ key: 'vdi.kasm.io/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
        ...(sysctls.length ? { sysctls } : {}),
      },
      containers: [
        {
          name: 'httpd',
          image,
          imagePullPolicy: 'Never',
          args,
          readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '64Mi' } },
        },
      ],
    },
  };
}

async function readyPodIp(ns: TestNamespace, name: string, timeoutMs = 180_000): Promise<string> {
  return waitFor(
    `pod ${ns.name}/${name} Ready on ${NODE_NAME}`,
    async () => {
      const p = await ns.core.readNamespacedPod({ name, namespace: ns.name });
      if (p.status?.phase === 'Failed') throw new Error(`pod ${name} failed: ${JSON.stringify(p.status)}`);
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && p.status?.podIP ? p.status.podIP : undefined;
    },
    timeoutMs,
    250,
  );
}

async function createRendered(r: RenderedSession): Promise<void> {
  await sessions.core.createNamespacedSecret({ namespace: sessions.name, body: asCreated(r.authSecret) });
  // Sent as the API server's JSON (`from`), the way the operator applies it.
  const np = await kubeRequest(
    kc,
    'POST',
    `/apis/networking.k8s.io/v1/namespaces/${sessions.name}/networkpolicies`,
    asCreated(r.networkPolicy),
  );
  if (np.status >= 300) throw new Error(`creating the NetworkPolicy failed: ${np.text}`);
  await sessions.core.createNamespacedService({ namespace: sessions.name, body: asCreated(r.service) });
}

function startOutside(httpdBin: string): void {
  const o = OUTSIDE;
  sh('ip', ['netns', 'add', o.netns]);
  sh('ip', ['link', 'add', o.hostIf, 'type', 'veth', 'peer', 'name', o.nsIf, 'netns', o.netns]);
  sh('ip', ['addr', 'add', `${o.hostAddr}/30`, 'dev', o.hostIf]);
  sh('ip', ['link', 'set', o.hostIf, 'up']);
  const inNs = (...args: string[]) => sh('ip', ['netns', 'exec', o.netns, ...args]);
  inNs('ip', 'link', 'set', 'lo', 'up');
  inNs('ip', 'addr', 'add', `${o.nsAddr}/30`, 'dev', o.nsIf);
  for (const a of OUTSIDE_TARGETS) inNs('ip', 'addr', 'add', `${a}/32`, 'dev', o.nsIf);
  inNs('ip', 'link', 'set', o.nsIf, 'up');
  inNs('ip', 'route', 'add', 'default', 'via', o.hostAddr);
  for (const a of OUTSIDE_TARGETS) sh('ip', ['route', 'add', `${a}/32`, 'via', o.nsAddr, 'dev', o.hostIf]);
  outsideServer = spawn('ip', ['netns', 'exec', o.netns, httpdBin, '-addr', ':80'], { stdio: 'ignore' });
}

function stopOutside(): void {
  outsideServer?.kill('SIGKILL');
  // Deleting the namespace removes the veth pair, and with it the host's routes through it.
  try {
    sh('ip', ['netns', 'del', OUTSIDE.netns]);
  } catch {
    /* not made */
  }
  try {
    sh('ip', ['link', 'del', OUTSIDE.hostIf]);
  } catch {
    /* gone with the namespace */
  }
}

beforeAll(async () => {
  release = await holdRealNode();
  const kubeconfig = ensureCluster();
  kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  stateDir = path.dirname(kubeconfig);
  const saved = savedNodeOptions(stateDir);
  if (!saved)
    throw new Error(
      `the cluster of ${kubeconfig} has not started ${NODE_NAME}: see the "real node" line of \`npm run cluster:up\` (it needs root and \`npm run setup\`)`,
    );
  // The node as `cluster up` runs it (reused when it runs with enforcement).
  await startNode({ ...saved, log });
  expect((await nodeStatus({ stateDir })).networkPolicy.enforced).toBe(true);

  // Images: the platform's desktop, and the test image for stand-ins and "the internet".
  const desktop = await ensureDesktopImage(log);
  await importImage(desktop.path, { stateDir });
  const httpdBin = buildStaticGo(
    path.join(repoRoot, 'tools/node/test/httpd'),
    path.join(saved.cacheDir, 'node'),
  );
  const httpdRef = `localhost/vdi/node-test-httpd:${path.basename(httpdBin).split('-').pop()}`;
  writeBinaryImage(
    httpdBin,
    { ref: httpdRef, entrypoint: ['/httpd'], exposedPorts: [8080] },
    `${httpdBin}.oci.tar`,
  );
  await importImage(`${httpdBin}.oci.tar`, { stateDir });

  const restricted = {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  };
  sessions = await createTestNamespace('iso', restricted);
  dnsNs = await createTestNamespace('iso-dns', restricted);
  ingressNs = await createTestNamespace('iso-ingress', restricted);

  // The host's side: a service on all addresses (an API server, Keycloak, … listening on
  // 0.0.0.0), one on a NodePort-range port, coturn and the TURN REST endpoint on the node address.
  hostAddrs.push(...hostIpv4Addresses().filter((a) => a !== NODE_IP));
  hostPort = (await listenTcp('0.0.0.0', 0).then((s) => s.address() as net.AddressInfo)).port;
  nodePortRangePort = await freeNodeRangePort();
  const turnSecret = randomBytes(32).toString('hex');
  coturn = await startCoturn({
    secret: turnSecret,
    host: NODE_IP,
    policyArgs: coturnPolicyArgs({ ...DEFAULT_RELAY_POLICY, peerCidrs: [POD_CIDR], totalQuota: RELAY_PORTS }),
  });
  startOutside(httpdBin);

  const options = platformOptions();
  const known = new Map<string, VDISession>();
  const rest = http.createServer((req, res) => {
    const a = answerTurnRest(req.method ?? 'GET', req.url ?? '/', (ns, name) => known.get(`${ns}/${name}`), {
      sessionKey: TEST_SESSION_KEY,
      turnSecret,
      servers: [options.turn],
      ttlSeconds: 3600,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    res.writeHead(a.status, a.headers).end(a.body);
  });
  await new Promise<void>((resolve) => rest.listen(0, NODE_IP, () => resolve()));
  servers.push(rest);
  restPort = (rest.address() as net.AddressInfo).port;
  // The options name the REST port: render only now.
  const opts = platformOptions();

  // DNS and ingress stand-ins: pods with the labels the sessions' policy names.
  await dnsNs.core.createNamespacedPod({
    namespace: dnsNs.name,
    body: standInPod(
      'dns',
      httpdRef,
      { 'k8s-app': 'kube-dns' },
      ['-udp', ':53', '-tcp', ':53'],
      [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
    ),
  });
  await ingressNs.core.createNamespacedPod({
    namespace: ingressNs.name,
    body: standInPod('traefik', httpdRef, { 'app.kubernetes.io/name': 'traefik' }),
  });

  // Session 1: the real desktop, WebRTC, egress to the internet and one listed private CIDR.
  const tA = cpuTemplate(`iso-webrtc-${suffix}`, desktop.ref, {
    streaming: { mode: 'webrtc' },
    egress: { internet: true, cidrs: [`${OUTSIDE.listed}/32`] },
  });
  const sA = session(`desk-a-${suffix}`, tA.metadata.name!);
  known.set(`${sessions.name}/${sA.metadata.name}`, sA);
  const rA = renderSession(sA, tA, opts, {
    encoderPlan: chooseEncoder('h264enc', 0, { products: [] }),
    sessionPassword: sessionPassword(TEST_SESSION_KEY, sA.metadata.uid!),
    turnRestKey: turnRestKey(TEST_SESSION_KEY, sA.metadata.uid!),
  });
  expect(rA.pod.spec?.nodeSelector).toMatchObject({ 'vdi.kasm.io/real-node': 'true' });
  // Session 2: another user's desktop with the template defaults (websockets, egress none); a
  // stand-in pod carries its labels (so its rendered policy selects it) and probes from inside.
  const tB = cpuTemplate(`iso-none-${suffix}`, desktop.ref, {});
  const sB = session(`desk-b-${suffix}`, tB.metadata.name!);
  const rB = renderSession(sB, tB, opts, {
    encoderPlan: chooseEncoder('h264enc', 0, { products: [] }),
    sessionPassword: sessionPassword(TEST_SESSION_KEY, sB.metadata.uid!),
    turnRestKey: turnRestKey(TEST_SESSION_KEY, sB.metadata.uid!),
  });
  for (const r of [rA, rB]) await createRendered(r);
  desktopPodName = rA.pod.metadata!.name!;
  await sessions.core.createNamespacedPod({ namespace: sessions.name, body: asCreated(rA.pod) });
  await sessions.core.createNamespacedPod({
    namespace: sessions.name,
    body: standInPod(rB.pod.metadata!.name!, httpdRef, { ...rB.pod.metadata!.labels }),
  });

  ip.dns = await readyPodIp(dnsNs, 'dns');
  ip.ingress = await readyPodIp(ingressNs, 'traefik');
  ip.other = await readyPodIp(sessions, rB.pod.metadata!.name!);
  // Under enforcement: the kubelet's /api/health probe passes (host → pod), and the WebRTC
  // desktop's start got its TURN REST answer (pod → node address, allowed by its policy).
  const t0 = Date.now();
  ip.desktop = await readyPodIp(sessions, desktopPodName, 300_000);
  log(`desktop ${desktopPodName} Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${ip.desktop}`);
}, 1_200_000);

afterAll(async () => {
  try {
    for (const ns of [sessions, dnsNs, ingressNs]) await ns?.cleanup();
    stopOutside();
    await coturn?.stop();
    for (const s of servers) s.close();
    // Whatever happened, the node goes back to enforcing.
    if (stateDir && savedNodeOptions(stateDir)) await setNetworkPolicyEnforcement(true, { stateDir, log });
  } finally {
    await release?.();
  }
}, 300_000);

describe('a desktop on the real node, NetworkPolicies enforced', () => {
  it('reaches DNS, the TURN relay over UDP, the TURN REST endpoint and what its egress allows — nothing else', async () => {
    const probes = desktopProbes();
    const results = await probeFromDesktop(probes);
    log(`from the desktop: ${JSON.stringify(results, null, 1)}`);
    expect(opened(results)).toEqual(expected(probes, DESKTOP_ALLOWED));
  });

  it("another session's desktop (egress none, websockets) reaches cluster DNS only", async () => {
    const probes = otherProbes();
    expect(opened(await probeFromPod(ip.other, probes))).toEqual(expected(probes, OTHER_ALLOWED));
  });

  it('the host (Traefik, the kubelet) and the ingress controller reach both desktops on their port', async () => {
    expect((await get(`http://${ip.desktop}:8080/api/health`)).status).toBe(200);
    expect((await get(`http://${ip.other}:8080/`)).status).toBe(200);
    const fromIngress = await probeFromPod(ip.ingress, {
      desktop: ['tcp', ip.desktop, 8080],
      other: ['tcp', ip.other, 8080],
    });
    expect(fromIngress).toEqual({ desktop: 'open', other: 'open' });
    const pod = await sessions.core.readNamespacedPod({ name: desktopPodName, namespace: sessions.name });
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  });
});

describe('the same desktops with enforcement off (policies stored, not enforced)', () => {
  it('every isolation check above fails: the closed paths were closed by enforcement', async () => {
    await setNetworkPolicyEnforcement(false, { stateDir, log });
    try {
      const desktop = opened(await probeFromDesktop(desktopProbes()));
      const other = opened(await probeFromPod(ip.other, otherProbes()));
      log(`without enforcement, from the desktop: ${JSON.stringify(desktop, null, 1)}`);
      // Every probe is answered now: each "unreachable" above was the policy, not a missing listener.
      expect(Object.entries(desktop).filter(([, open]) => !open)).toEqual([]);
      expect(Object.entries(other).filter(([, open]) => !open)).toEqual([]);
    } finally {
      await setNetworkPolicyEnforcement(true, { stateDir, log });
    }
    // And back: enforced again.
    const again = await probeFromDesktop({
      other: ['tcp', ip.other, 8080],
      kubelet: ['tcp', NODE_IP, 10250],
    });
    expect(opened(again)).toEqual({ other: false, kubelet: false });
  });
});
