import type { V1Pod } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { isQueued, queuePositions } from './queue.js';

const t = (s: number) => new Date(Date.UTC(2026, 11, 4, 10, 0, s));

function session(
  name: string,
  reason: string,
  o: { created?: number; stopped?: boolean; deleting?: boolean } = {},
) {
  return {
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: {
      name,
      namespace: 'vdi-sessions',
      creationTimestamp: t(o.created ?? 0),
      ...(o.deleting ? { deletionTimestamp: t(99) } : {}),
    },
    spec: { user: 'a@example.com', template: 'gpu', ...(o.stopped ? { state: 'Stopped' } : {}) },
    status: { phase: reason === 'DesktopReady' ? 'Running' : 'Scheduling', reason },
  } as VDISession;
}

function pod(session: string, created: number, nodeName?: string): V1Pod {
  return {
    metadata: {
      name: `${session}-desktop`,
      labels: { 'vdi.kasm.io/session': session },
      creationTimestamp: t(created),
    },
    spec: { containers: [], ...(nodeName ? { nodeName } : {}) },
  };
}

describe('queuePositions', () => {
  it('orders the sessions waiting for a time-slice by when their desktop pods entered the queue', () => {
    // b was created first but resumed (a new pod) after a and c started waiting.
    const sessions = [
      session('a', 'WaitingForGPU', { created: 10 }),
      session('b', 'WaitingForGPU', { created: 1 }),
      session('c', 'WaitingForHomeNode', { created: 20 }),
      session('running', 'DesktopReady'),
    ];
    const pods = [pod('a', 11), pod('b', 40), pod('c', 21), pod('running', 0, 'gpu-1')];
    expect(Object.fromEntries(queuePositions(sessions, pods))).toEqual({ a: 1, c: 2, b: 3 });
  });

  it('leaves out stopped, deleted and otherwise pending sessions, and breaks ties by name', () => {
    const sessions = [
      session('stopped', 'WaitingForGPU', { stopped: true }),
      session('gone', 'WaitingForGPU', { deleting: true }),
      session('nonode', 'Unschedulable'),
      session('y', 'WaitingForGPU'),
      session('x', 'WaitingForGPU'),
    ];
    const positions = queuePositions(sessions, [pod('x', 5), pod('y', 5)]);
    expect(Object.fromEntries(positions)).toEqual({ x: 1, y: 2 });
    expect(isQueued(sessions[0]!)).toBe(false);
  });

  it('uses the session’s queuedAt while its pod is not in the cache yet', () => {
    const late = session('late', 'WaitingForGPU', { created: 0 });
    late.status!.queuedAt = '2026-12-04T10:00:50Z';
    const early = session('early', 'WaitingForGPU', { created: 30 });
    expect(Object.fromEntries(queuePositions([late, early], [pod('early', 31)]))).toEqual({
      early: 1,
      late: 2,
    });
  });
});
