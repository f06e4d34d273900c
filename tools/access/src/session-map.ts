/**
 * Which session a pod IP belongs to: the host side watches the desktop pods and hands this map
 * to the stand-in inside the desktop network, which cannot reach the API server (the namespace
 * has no route to the host's loopback).
 */
import { createHash } from 'node:crypto';
import type { V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_USER, DESKTOP_BASIC_AUTH_USER, LABEL_SESSION } from '@vdi/session-spec';
import { cidrContains, parseCidr } from './network.js';

/**
 * The basic auth a desktop asks for, as Selkies reads it from the pod's environment
 * (SELKIES_ENABLE_BASIC_AUTH, SELKIES_BASIC_AUTH_USER, SELKIES_BASIC_AUTH_PASSWORD, the latter
 * usually from the session's Secret). Only a hash of the expected `Authorization` value travels
 * to the stand-in. `unreadable`: basic auth is on but the password could not be read, so every
 * request is refused (as Selkies would not start without it).
 */
export type DesktopBasicAuth = { user: string; authorizationSha256: string } | { unreadable: string };

/** SHA-256 (hex) of an `Authorization` header value. */
export const authorizationSha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** A Secret's decoded data, looked up by namespace and name (undefined: not there or not readable). */
export type SecretLookup = (namespace: string, name: string) => Record<string, string> | undefined;

/** The Secrets (namespace/name) that the desktop pods' basic-auth passwords come from. */
export function basicAuthSecretRefs(pods: readonly V1Pod[]): { namespace: string; name: string }[] {
  const out = new Map<string, { namespace: string; name: string }>();
  for (const pod of pods) {
    const ref = envOf(pod, 'SELKIES_BASIC_AUTH_PASSWORD')?.valueFrom?.secretKeyRef;
    const namespace = pod.metadata?.namespace ?? 'default';
    if (ref?.name) out.set(`${namespace}/${ref.name}`, { namespace, name: ref.name });
  }
  return [...out.values()];
}

function envOf(pod: V1Pod, name: string): V1EnvVar | undefined {
  const desktop = pod.spec?.containers?.[0];
  return desktop?.env?.find((e) => e.name === name);
}

/** The basic auth a pod's desktop asks for, or undefined when it asks for none. */
export function podBasicAuth(pod: V1Pod, secrets: SecretLookup): DesktopBasicAuth | undefined {
  if (envOf(pod, 'SELKIES_ENABLE_BASIC_AUTH')?.value !== 'true') return undefined;
  const user = envOf(pod, 'SELKIES_BASIC_AUTH_USER')?.value ?? DESKTOP_BASIC_AUTH_USER;
  const passwordVar = envOf(pod, 'SELKIES_BASIC_AUTH_PASSWORD');
  let password = passwordVar?.value;
  const ref = passwordVar?.valueFrom?.secretKeyRef;
  if (password === undefined && ref?.name && ref.key) {
    password = secrets(pod.metadata?.namespace ?? 'default', ref.name)?.[ref.key];
    if (password === undefined) {
      return { unreadable: `the password in Secret ${ref.name}, key ${ref.key}, could not be read` };
    }
  }
  if (!password) return { unreadable: 'basic auth is on but SELKIES_BASIC_AUTH_PASSWORD is not set' };
  const header = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  return { user, authorizationSha256: authorizationSha256(header) };
}

/** What the stand-in knows of the desktop behind one pod IP. */
export interface DesktopEntry {
  /** The session name (label `vdi.kasm.io/session`). */
  session: string;
  namespace: string;
  pod: string;
  /** The session's owner as the pod's annotation says (the request's user comes from X-Forwarded-User). */
  owner?: string;
  /** The basic auth the desktop requires (Selkies' own lock), when it requires one. */
  basicAuth?: DesktopBasicAuth;
}

/** pod IP → desktop, as plain JSON (what travels to the stand-in). */
export type SessionMap = Record<string, DesktopEntry>;

/**
 * The map for a set of pods: only session pods (label `vdi.kasm.io/session`) that have an
 * address inside the pod range and are not being deleted. When two pods claim one address (a
 * deleted pod's IP reused), the newer pod wins.
 */
export function sessionMapFromPods(
  pods: readonly V1Pod[],
  podCidr: string,
  secrets: SecretLookup = () => undefined,
): SessionMap {
  const range = parseCidr(podCidr);
  const out: SessionMap = {};
  const created = new Map<string, number>();
  for (const pod of pods) {
    const session = pod.metadata?.labels?.[LABEL_SESSION];
    const ip = pod.status?.podIP;
    if (!session || !ip || pod.metadata?.deletionTimestamp) continue;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || !cidrContains(range, ip)) continue;
    const ts = new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
    if (out[ip] && (created.get(ip) ?? 0) > ts) continue;
    const owner = pod.metadata?.annotations?.[ANNOTATION_USER];
    const basicAuth = podBasicAuth(pod, secrets);
    out[ip] = {
      session,
      namespace: pod.metadata?.namespace ?? 'default',
      pod: pod.metadata?.name ?? '',
      ...(owner ? { owner } : {}),
      ...(basicAuth ? { basicAuth } : {}),
    };
    created.set(ip, ts);
  }
  return out;
}

/** The address a request arrived on, as the stand-in sees it (IPv4-mapped IPv6 unwrapped). */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** Merges the maps of several watchers (one file each): for one IP, the most recently written wins. */
export function mergeSessionMaps(maps: readonly { writtenAt: number; map: SessionMap }[]): SessionMap {
  const out: SessionMap = {};
  for (const { map } of [...maps].sort((a, b) => a.writtenAt - b.writtenAt)) Object.assign(out, map);
  return out;
}
