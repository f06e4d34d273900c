/**
 * The local cluster's PKI, made once with the openssl CLI and kept in the state directory:
 * a CA, the API server's serving certificate, client certificates for the admin and each
 * component (their identities are what RBAC sees), and the service-account signing key pair.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ClientIdentity {
  /** File stem, e.g. `admin`. */
  name: string;
  commonName: string;
  organization?: string;
}

/** The identities the control plane needs; the names match Kubernetes' built-in RBAC roles. */
export const CLIENT_IDENTITIES: ClientIdentity[] = [
  { name: 'admin', commonName: 'vdi-admin', organization: 'system:masters' },
  { name: 'kube-controller-manager', commonName: 'system:kube-controller-manager' },
  { name: 'kube-scheduler', commonName: 'system:kube-scheduler' },
  // kwok plays every kubelet at once (node status, pod status, leases): it needs broad rights.
  { name: 'kwok', commonName: 'kwok', organization: 'system:masters' },
];

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed in ${cwd}: ${stderr.trim() || String(err)}`);
  }
}

function signed(dir: string, stem: string, subject: string, ext: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${stem}.key`], dir);
  openssl(['req', '-new', '-key', `${stem}.key`, '-subj', subject, '-out', `${stem}.csr`], dir);
  writeFileSync(path.join(dir, `${stem}.ext`), ext);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${stem}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      `${stem}.ext`,
      '-out',
      `${stem}.crt`,
    ],
    dir,
  );
}

/** Creates the PKI in `dir` unless it is already complete. Idempotent. */
export function ensurePki(dir: string, serviceIp: string): void {
  mkdirSync(dir, { recursive: true });
  const done = path.join(dir, '.complete');
  if (existsSync(done)) return;
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=vdi-local-ca',
      '-days',
      '3650',
      '-sha256',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  const sans = [
    'IP:127.0.0.1',
    `IP:${serviceIp}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  signed(dir, 'apiserver', '/CN=kube-apiserver', `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\n`);
  for (const id of CLIENT_IDENTITIES) {
    const subject = `${id.organization ? `/O=${id.organization}` : ''}/CN=${id.commonName}`;
    signed(dir, id.name, subject, 'extendedKeyUsage=clientAuth\n');
  }
  // The API server also calls kwok's "kubelet" endpoints (logs/exec); give it a client cert.
  signed(
    dir,
    'apiserver-kubelet-client',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    'extendedKeyUsage=clientAuth\n',
  );
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  writeFileSync(done, new Date().toISOString());
}

/** A kubeconfig with embedded client certificate for one identity. */
export function kubeconfigYaml(pkiDir: string, identity: string, server: string): string {
  const b64 = (f: string) => readFileSync(path.join(pkiDir, f)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: vdi-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64('ca.crt')}`,
    'users:',
    `- name: ${identity}`,
    '  user:',
    `    client-certificate-data: ${b64(`${identity}.crt`)}`,
    `    client-key-data: ${b64(`${identity}.key`)}`,
    'contexts:',
    '- name: vdi-local',
    '  context:',
    '    cluster: vdi-local',
    `    user: ${identity}`,
    'current-context: vdi-local',
    '',
  ].join('\n');
}
