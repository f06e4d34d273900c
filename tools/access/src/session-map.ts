/**
 * Which session a pod IP belongs to: the host side watches the desktop pods and hands this map
 * to the stand-in inside the desktop network, which cannot reach the API server (the namespace
 * has no route to the host's loopback).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_USER, LABEL_SESSION } from '@vdi/session-spec';
import { cidrContains, parseCidr } from './network.js';

/** What the stand-in knows of the desktop behind one pod IP. */
export interface DesktopEntry {
  /** The session name (label `vdi.kasm.io/session`). */
  session: string;
  namespace: string;
  pod: string;
  /** The session's owner as the pod's annotation says (the request's user comes from X-Forwarded-User). */
  owner?: string;
}

/** pod IP → desktop, as plain JSON (what travels to the stand-in). */
export type SessionMap = Record<string, DesktopEntry>;

/**
 * The map for a set of pods: only session pods (label `vdi.kasm.io/session`) that have an
 * address inside the pod range and are not being deleted. When two pods claim one address (a
 * deleted pod's IP reused), the newer pod wins.
 */
export function sessionMapFromPods(pods: readonly V1Pod[], podCidr: string): SessionMap {
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
    out[ip] = {
      session,
      namespace: pod.metadata?.namespace ?? 'default',
      pod: pod.metadata?.name ?? '',
      ...(owner ? { owner } : {}),
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
