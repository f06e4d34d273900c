import type * as k8s from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { LABEL_SESSION, LABEL_USER_HASH, ownerHash } from '@vdi/session-spec';
import { EventKeys } from './handlers.js';
import { OwnerIndex } from './owner-index.js';

const alice = { issuer: 'https://idp', subject: 'alice' };
const bob = { issuer: 'https://idp', subject: 'bob' };
const session = (name: string, template: string, owner: typeof alice, phase?: string): VDISession =>
  ({
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: { name, namespace: 'vdi' },
    spec: { user: `${owner.subject}@example.com`, owner, template },
    ...(phase ? { status: { phase } } : {}),
  }) as VDISession;

const sessions = [
  session('a1', 'xfce', alice, 'Running'),
  session('a2', 'kde', alice, 'Scheduling'),
  session('b1', 'xfce', bob),
];
const owners = new OwnerIndex();
for (const s of sessions) owners.set(s);
const byOwner = (hash: string) => owners.keys(hash);
const keys = new EventKeys('vdi', () => sessions, byOwner);

describe('EventKeys', () => {
  it('a session wakes itself', () => {
    expect(keys.session(sessions[0]!)).toEqual(['vdi/a1']);
  });

  it('a template wakes the sessions made from it', () => {
    expect(keys.template('xfce')).toEqual(['vdi/a1', 'vdi/b1']);
    expect(keys.template('gone')).toEqual([]);
  });

  it("a template's spec change wakes its sessions; a write of its status alone (same generation) none", () => {
    const k = new EventKeys('vdi', () => sessions, byOwner);
    expect(k.templateEvent('xfce', 1, false)).toEqual(['vdi/a1', 'vdi/b1']);
    // Its status written (Ready, the session count): the generation stays.
    expect(k.templateEvent('xfce', 1, false)).toEqual([]);
    // The framework's copy of a new spec wakes them without recording it: the caches' copy wakes again.
    expect(k.templateEvent('xfce', 2, false, false)).toEqual(['vdi/a1', 'vdi/b1']);
    expect(k.templateEvent('xfce', 2, false)).toEqual(['vdi/a1', 'vdi/b1']);
    expect(k.templateEvent('xfce', 2, false, false)).toEqual([]);
    // Deleted, then made again with generation 1: both wake.
    expect(k.templateEvent('xfce', 2, true)).toEqual(['vdi/a1', 'vdi/b1']);
    expect(k.templateEvent('xfce', 1, false)).toEqual(['vdi/a1', 'vdi/b1']);
    // Without a generation (never for a custom resource): always.
    expect(k.templateEvent('xfce', undefined, false)).toEqual(['vdi/a1', 'vdi/b1']);
  });

  it('a pod wakes the session of its label; an unlabelled pod none', () => {
    expect(keys.pod({ metadata: { labels: { [LABEL_SESSION]: 'a2' } } } as k8s.V1Pod)).toEqual(['vdi/a2']);
    expect(keys.pod({ metadata: {} } as k8s.V1Pod)).toEqual([]);
  });

  it('a node that comes or changes what placement reads wakes every session not Running (they may fit now); a heartbeat none', () => {
    const node = (gpus: string, ready = 'True', heartbeat = '2026-03-02T09:00:00Z'): k8s.V1Node => ({
      metadata: { name: 'gpu-1', resourceVersion: heartbeat, labels: { 'nvidia.com/gpu.present': 'true' } },
      status: {
        allocatable: { 'nvidia.com/gpu': gpus },
        conditions: [
          { type: 'Ready', status: ready, reason: 'KubeletReady', lastHeartbeatTime: heartbeat as never },
        ],
      },
    });
    expect(keys.node(node('8'), 'add')).toEqual(['vdi/a2', 'vdi/b1']);
    // Only its heartbeat and version moved.
    expect(keys.node(node('8', 'True', '2026-03-02T09:00:40Z'), 'update')).toEqual([]);
    expect(keys.node(node('16'), 'update')).toEqual(['vdi/a2', 'vdi/b1']);
    expect(keys.node(node('16', 'False'), 'update')).toEqual(['vdi/a2', 'vdi/b1']);
    expect(keys.node({ ...node('16', 'False'), spec: { unschedulable: true } }, 'update')).toEqual([
      'vdi/a2',
      'vdi/b1',
    ]);
    expect(keys.node(node('16'), 'delete')).toEqual(['vdi/a2', 'vdi/b1']);
    // Seen again after its deletion: new, so it wakes them.
    expect(keys.node(node('16'), 'add')).toEqual(['vdi/a2', 'vdi/b1']);
  });

  it("the framework's copy of a version the caches delivered wakes nobody; one they have not shown yet does", () => {
    const k = new EventKeys(
      'vdi',
      () => [],
      () => [],
    );
    // The framework's watch ahead of the cache: its copy wakes (the cache's follows).
    expect(k.cachedAlready('session', 'vdi', 'a1', '10')).toBe(false);
    k.cached('session', 'vdi', 'a1', '10');
    // The framework's copy of the same version, and its first list repeating it.
    expect(k.cachedAlready('session', 'vdi', 'a1', '10')).toBe(true);
    expect(k.cachedAlready('session', 'vdi', 'a1', '11')).toBe(false);
    // Another object with the same name elsewhere, or of another kind, is its own.
    expect(k.cachedAlready('session', 'other', 'a1', '10')).toBe(false);
    expect(k.cachedAlready('template', '', 'a1', '10')).toBe(false);
    // Gone from the cache: nothing counts as delivered (a session made again under the name is news).
    k.cached('session', 'vdi', 'a1', '12', true);
    expect(k.cachedAlready('session', 'vdi', 'a1', '10')).toBe(false);
    expect(k.cachedAlready('session', 'vdi', 'a1', undefined)).toBe(false);
  });

  it("a session's home wakes it; a per-user home wakes every session of that owner; another claim none", () => {
    const claim = (labels: Record<string, string>) =>
      ({ metadata: { labels } }) as k8s.V1PersistentVolumeClaim;
    expect(keys.claim(claim({ [LABEL_SESSION]: 'b1' }))).toEqual(['vdi/b1']);
    expect(keys.claim(claim({ [LABEL_USER_HASH]: ownerHash(alice) }))).toEqual(['vdi/a1', 'vdi/a2']);
    expect(keys.claim(claim({}))).toEqual([]);
  });

  describe('sessionPriority', () => {
    const at = (
      generation: number,
      status?: { phase: string; observedGeneration?: number },
      deleting = false,
    ) =>
      ({
        ...session('p', 'xfce', alice),
        metadata: {
          name: 'p',
          namespace: 'vdi',
          generation,
          ...(deleting ? { deletionTimestamp: '2026-12-04T10:00:00Z' } : {}),
        },
        ...(status ? { status } : {}),
      }) as VDISession;

    it('a session without status (just created) is new', () => {
      expect(keys.sessionPriority(at(1))).toBe('new');
    });
    it('an edited spec the operator has not answered yet (stop, resume, extend) is new', () => {
      expect(keys.sessionPriority(at(2, { phase: 'Running', observedGeneration: 1 }))).toBe('new');
    });
    it("the echo of the operator's own status write is a refresh", () => {
      expect(keys.sessionPriority(at(2, { phase: 'Running', observedGeneration: 2 }))).toBe('refresh');
    });
    it('a session being deleted is new (its slice frees room for others)', () => {
      expect(keys.sessionPriority(at(2, { phase: 'Running', observedGeneration: 2 }, true))).toBe('new');
    });
  });

  describe('podPriority', () => {
    const pod = (ready: boolean, phase = 'Running') =>
      ({
        metadata: { name: 'a1', labels: { [LABEL_SESSION]: 'a1' } },
        status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
      }) as k8s.V1Pod;
    const starting = session('a1', 'xfce', alice, 'Starting');
    const running = session('a1', 'xfce', alice, 'Running');

    it('a ready pod of a session not yet Running finishes it (its owner waits for that, one write away)', () => {
      expect(keys.podPriority(pod(true), starting)).toBe('finish');
    });
    it('other steps of a start, and a ready pod of a Running session, are refreshes', () => {
      expect(keys.podPriority(pod(false, 'Pending'), starting)).toBe('refresh');
      expect(keys.podPriority(pod(true), running)).toBe('refresh');
      expect(keys.podPriority(pod(true), undefined)).toBe('refresh');
    });
    it('a failed pod of a session that does not say so yet finishes it', () => {
      expect(keys.podPriority(pod(false, 'Failed'), running)).toBe('finish');
    });
  });
});
