import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { gpuCapacity, ownedBy, waitingSessions, type SessionOwner } from '@vdi/session-spec';
import { queuePositions } from '../capacity/queue.js';
import {
  ApiIndexes,
  comparePositions,
  GpuQueue,
  GpuSlices,
  pageOf,
  positionOf,
  SessionsByOwner,
  SessionsInPageOrder,
  WaitingSessions,
  type CacheEvent,
  type CacheIndex,
  type PagePosition,
} from './indexes.js';

const GPU = 'nvidia.com/gpu';
const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 10, 0, 0) + s * 1000).toISOString();
const alice: SessionOwner = { issuer: 'https://idp/a', subject: 'alice' };
const bob: SessionOwner = { issuer: 'https://idp/a', subject: 'bob' };
/** Same subject, another issuer: another owner. */
const aliceElsewhere: SessionOwner = { issuer: 'https://idp/b', subject: 'alice' };

function session(
  name: string,
  o: {
    owner?: SessionOwner;
    created?: number;
    phase?: 'Pending' | 'Scheduling' | 'Running' | 'Stopped';
    reason?: string;
    deleting?: boolean;
    rv?: string;
  } = {},
): VDISession {
  return {
    apiVersion: 'vdi.kasm.io/v1alpha1',
    kind: 'VDISession',
    metadata: {
      name,
      namespace: 'vdi-sessions',
      creationTimestamp: at(o.created ?? 0) as unknown as Date,
      resourceVersion: o.rv ?? '1',
      ...(o.deleting ? { deletionTimestamp: at(999) as unknown as Date } : {}),
    },
    spec: { user: `${name}@example.com`, template: 'gpu', ...(o.owner ? { owner: o.owner } : {}) },
    ...(o.phase ? { status: { phase: o.phase, ...(o.reason ? { reason: o.reason } : {}) } } : {}),
  };
}

function pod(
  session: string,
  o: { node?: string; gpu?: number; created?: number; phase?: string } = {},
): V1Pod {
  return {
    metadata: {
      name: `${session}-desktop`,
      namespace: 'vdi-sessions',
      labels: { 'vdi.kasm.io/session': session },
      creationTimestamp: new Date(at(o.created ?? 0)),
    },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [{ name: 'desktop', resources: { limits: { [GPU]: String(o.gpu ?? 1) } } }],
    },
    ...(o.phase ? { status: { phase: o.phase } } : {}),
  };
}

function node(
  name: string,
  o: { slices?: number; product?: string; ready?: boolean; cordoned?: boolean } = {},
): V1Node {
  return {
    metadata: { name, labels: { 'nvidia.com/gpu.product': o.product ?? 'NVIDIA-L4-SHARED' } },
    spec: { ...(o.cordoned ? { unschedulable: true } : {}) },
    status: {
      allocatable: { [GPU]: String(o.slices ?? 8) },
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  };
}

/** A cache as client-node keeps it: the index sees add for a new name, update for a known one. */
class FakeCache<T extends { metadata?: { name?: string } }> {
  readonly objects = new Map<string, T>();
  constructor(private readonly index: CacheIndex<T>) {}
  put(obj: T): void {
    const name = obj.metadata!.name!;
    const event: CacheEvent = this.objects.has(name) ? 'update' : 'add';
    this.objects.set(name, obj);
    this.index.apply(event, obj);
  }
  remove(name: string): void {
    const obj = this.objects.get(name);
    if (!obj) return;
    this.objects.delete(name);
    this.index.apply('delete', obj);
  }
  list(): T[] {
    return [...this.objects.values()];
  }
}

const names = (list: VDISession[]) => list.map((s) => s.metadata.name!);

describe('SessionsByOwner', () => {
  it("answers an owner's sessions by name, exactly issuer + subject, never an unclaimed one", () => {
    const idx = new SessionsByOwner();
    const c = new FakeCache(idx);
    c.put(session('b2', { owner: alice }));
    c.put(session('a1', { owner: alice }));
    c.put(session('bob-1', { owner: bob }));
    c.put(session('other', { owner: aliceElsewhere }));
    c.put(session('legacy')); // 0.1.x: no owner
    expect(names(idx.of(alice))).toEqual(['a1', 'b2']);
    expect(names(idx.of(bob))).toEqual(['bob-1']);
    expect(names(idx.of(aliceElsewhere))).toEqual(['other']);
    expect(idx.of({ issuer: 'https://idp/a', subject: 'nobody' })).toEqual([]);
  });

  it('drops a deleted session and the empty owner with it', () => {
    const idx = new SessionsByOwner();
    const c = new FakeCache(idx);
    c.put(session('a1', { owner: alice }));
    c.put(session('a2', { owner: alice }));
    c.remove('a1');
    expect(names(idx.of(alice))).toEqual(['a2']);
    c.remove('a2');
    expect(idx.of(alice)).toEqual([]);
    expect(idx.owners).toBe(0);
  });

  it('moves a session whose owner changes on update (the migration gives an unclaimed one its owner)', () => {
    const idx = new SessionsByOwner();
    const c = new FakeCache(idx);
    c.put(session('old', { rv: '1' }));
    expect(idx.of(alice)).toEqual([]);
    c.put(session('old', { owner: alice, rv: '2' }));
    expect(names(idx.of(alice))).toEqual(['old']);
    // Any other move (not allowed by the CRD, but the index must not keep a stale entry).
    c.put(session('old', { owner: bob, rv: '3' }));
    expect(idx.of(alice)).toEqual([]);
    expect(names(idx.of(bob))).toEqual(['old']);
  });

  it('keeps the newest object of a session', () => {
    const idx = new SessionsByOwner();
    const c = new FakeCache(idx);
    c.put(session('a1', { owner: alice, phase: 'Pending', rv: '1' }));
    c.put(session('a1', { owner: alice, phase: 'Running', rv: '2' }));
    expect(idx.of(alice).map((s) => s.status?.phase)).toEqual(['Running']);
  });
});

describe('SessionsInPageOrder', () => {
  const walk = (idx: SessionsInPageOrder, first: number, between?: (page: number) => void) => {
    const seen: string[] = [];
    let after: PagePosition | undefined;
    for (let page = 0; page < 1000; page++) {
      const p = idx.page(first, after);
      seen.push(...names(p.items));
      between?.(page);
      if (!p.next) return seen;
      after = p.next;
    }
    throw new Error('the walk did not end');
  };

  it('pages newest first, ties by name, with the total', () => {
    const idx = new SessionsInPageOrder();
    const c = new FakeCache(idx);
    for (const [n, t] of [
      ['c', 5],
      ['a', 5],
      ['old', 1],
      ['new', 9],
      ['b', 5],
    ] as const)
      c.put(session(n, { created: t }));
    const first = idx.page(2);
    expect(names(first.items)).toEqual(['new', 'a']);
    expect(first.total).toBe(5);
    expect(first.next).toEqual(positionOf(first.items[1]!));
    expect(names(idx.page(2, first.next).items)).toEqual(['b', 'c']);
    const last = idx.page(2, idx.page(2, first.next).next);
    expect(names(last.items)).toEqual(['old']);
    expect(last.next).toBeUndefined();
    // A page that ends exactly at the end says so.
    expect(idx.page(5).next).toBeUndefined();
  });

  it('a walk returns every session that existed at its start exactly once while others come and go', () => {
    const idx = new SessionsInPageOrder();
    const c = new FakeCache(idx);
    for (let i = 0; i < 50; i++) c.put(session(`s-${String(i).padStart(2, '0')}`, { created: i % 7 }));
    const before = new Set(c.list().map((s) => s.metadata.name!));
    const deleted = new Set<string>();
    let t = 100;
    const seen = walk(idx, 4, (page) => {
      c.put(session(`new-${page}`, { created: t++ })); // newer than everything: before every cursor
      const victim = `s-${String(page * 3).padStart(2, '0')}`;
      if (page % 2 === 0 && c.objects.has(victim)) {
        c.remove(victim);
        deleted.add(victim);
      }
    });
    expect(new Set(seen).size).toBe(seen.length); // nothing twice
    expect(seen.filter((n) => n.startsWith('new-'))).toEqual([]);
    // Every session that existed throughout is there; the deleted ones only if seen before deletion.
    for (const n of before) if (!deleted.has(n)) expect(seen).toContain(n);
  });

  it('goes on after a cursor whose session was deleted', () => {
    const idx = new SessionsInPageOrder();
    const c = new FakeCache(idx);
    for (const n of ['a', 'b', 'c', 'd']) c.put(session(n, { created: 1 }));
    const p = idx.page(2);
    c.remove('b');
    expect(names(idx.page(2, p.next).items)).toEqual(['c', 'd']);
  });

  it('moves a name re-created with a new creation time, and answers the newest object', () => {
    const idx = new SessionsInPageOrder();
    const c = new FakeCache(idx);
    c.put(session('x', { created: 1, rv: '1' }));
    c.put(session('y', { created: 2, rv: '1' }));
    c.put(session('x', { created: 3, rv: '5', phase: 'Running' })); // missed delete + create
    expect(names(idx.page(10).items)).toEqual(['x', 'y']);
    expect(idx.page(10).items[0]!.status?.phase).toBe('Running');
    expect(idx.size).toBe(2);
    c.remove('x');
    c.remove('y');
    expect(idx.page(10)).toEqual({ items: [], next: undefined, total: 0 });
  });

  it('answers everyone by name as sessions(all: true) did, sorted once per change', () => {
    const idx = new SessionsInPageOrder();
    const c = new FakeCache(idx);
    for (const n of ['b', 'a-2', 'a', 'c']) c.put(session(n, { created: n.length }));
    const once = idx.allByName();
    expect(names(once)).toEqual(
      [...c.list()].map((s) => s.metadata.name!).sort((x, y) => x.localeCompare(y)),
    );
    expect(idx.allByName()).toBe(once); // memoised
    c.remove('a');
    expect(names(idx.allByName())).not.toContain('a');
  });
});

describe('pageOf (one owner’s sessions)', () => {
  it('pages a short list in the same order and with the same cursors', () => {
    const list = ['a', 'b', 'c'].map((n, i) => session(n, { created: i }));
    const p1 = pageOf(list, 2);
    expect(names(p1.items)).toEqual(['c', 'b']);
    expect(p1.total).toBe(3);
    const p2 = pageOf(list, 2, p1.next);
    expect(names(p2.items)).toEqual(['a']);
    expect(p2.next).toBeUndefined();
  });
});

describe('WaitingSessions', () => {
  it('counts Pending (or no status) and Scheduling sessions not being deleted, following updates and deletes', () => {
    const idx = new WaitingSessions();
    const c = new FakeCache(idx);
    c.put(session('new'));
    c.put(session('pending', { phase: 'Pending' }));
    c.put(session('sched', { phase: 'Scheduling' }));
    c.put(session('run', { phase: 'Running' }));
    c.put(session('gone', { phase: 'Pending', deleting: true }));
    expect(idx.count).toBe(3);
    c.put(session('sched', { phase: 'Running', rv: '2' }));
    expect(idx.count).toBe(2);
    c.remove('new');
    expect(idx.count).toBe(1);
    c.remove('run'); // not waiting: nothing changes
    expect(idx.count).toBe(1);
  });
});

describe('GpuSlices', () => {
  it('counts what desktop pods hold per node as gpuCapacity does, through moves and deletes', () => {
    const idx = new GpuSlices(GPU);
    const pods = new FakeCache(idx.podEvents);
    const nodes = new FakeCache(idx.nodeEvents);
    nodes.put(node('gpu-1'));
    nodes.put(node('gpu-2', { product: 'NVIDIA-H100-80GB-HBM3-SHARED' }));
    nodes.put(node('cpu-1', { slices: 0 }));
    pods.put(pod('a', { node: 'gpu-1' }));
    pods.put(pod('b', { node: 'gpu-1' }));
    pods.put(pod('c')); // not placed
    const expected = () => gpuCapacity(nodes.list(), pods.list(), GPU);
    expect(idx.summary()).toEqual(expected());
    expect(idx.summary().free).toBe(14);
    pods.put(pod('c', { node: 'gpu-2' })); // placed
    expect(idx.summary()).toEqual(expected());
    pods.put(pod('a', { node: 'gpu-1', phase: 'Failed' })); // finished: holds nothing
    expect(idx.summary()).toEqual(expected());
    expect(idx.summary().free).toBe(14);
    pods.remove('b-desktop');
    expect(idx.summary()).toEqual(expected());
    nodes.put(node('gpu-1', { cordoned: true }));
    expect(idx.summary()).toEqual(expected());
    nodes.remove('gpu-2');
    expect(idx.summary()).toEqual(expected());
    expect(idx.summary().free).toBe(0);
  });

  it('computes nothing between changes', () => {
    const idx = new GpuSlices(GPU);
    new FakeCache(idx.nodeEvents).put(node('gpu-1'));
    const pods = new FakeCache(idx.podEvents);
    pods.put(pod('a', { node: 'gpu-1' }));
    const first = idx.summary();
    expect(idx.summary()).toBe(first);
    pods.put(pod('a', { node: 'gpu-1', gpu: 1 })); // same hold: no change
    expect(idx.summary()).toBe(first);
    pods.put(pod('b', { node: 'gpu-1' }));
    expect(idx.summary()).not.toBe(first);
  });
});

describe('GpuQueue', () => {
  it('gives the positions queuePositions gives over every session and pod, once per change', () => {
    const idx = new GpuQueue();
    const sessions = new FakeCache(idx.sessionEvents);
    const pods = new FakeCache(idx.podEvents);
    sessions.put(session('a', { phase: 'Scheduling', reason: 'WaitingForGPU', created: 10 }));
    sessions.put(session('b', { phase: 'Scheduling', reason: 'WaitingForGPU', created: 1 }));
    sessions.put(session('c', { phase: 'Scheduling', reason: 'WaitingForHomeNode', created: 20 }));
    sessions.put(session('run', { phase: 'Running', reason: 'DesktopReady' }));
    pods.put(pod('a', { created: 11 }));
    pods.put(pod('b', { created: 40 }));
    pods.put(pod('c', { created: 21 }));
    pods.put(pod('run', { node: 'gpu-1' }));
    const expected = () => queuePositions(sessions.list(), pods.list());
    expect(Object.fromEntries(idx.positions())).toEqual({ a: 1, c: 2, b: 3 });
    expect(idx.positions()).toEqual(expected());
    const memo = idx.positions();
    sessions.put(session('run', { phase: 'Running', reason: 'DesktopReady', rv: '2' })); // not queued
    expect(idx.positions()).toBe(memo);
    pods.put(pod('a', { created: 11, node: 'gpu-1' })); // a is placed
    sessions.put(session('a', { phase: 'Starting' as never, rv: '2' }));
    expect(idx.positions()).toEqual(expected());
    expect(Object.fromEntries(idx.positions())).toEqual({ c: 1, b: 2 });
    sessions.remove('c');
    pods.remove('c-desktop');
    expect(Object.fromEntries(idx.positions())).toEqual({ b: 1 });
  });
});

describe('ApiIndexes against the unindexed answers', () => {
  /** A deterministic pseudo-random sequence, so a failure can be replayed. */
  function rng(seed: number) {
    let x = seed;
    return (n: number) => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
  }

  it.each([1, 2, 3])('stay equal over random add/update/delete events (seed %i)', (seed) => {
    const r = rng(seed);
    const idx = new ApiIndexes(GPU);
    const sessions = new FakeCache(idx.sessionEvents);
    const pods = new FakeCache(idx.podEvents);
    const nodes = new FakeCache(idx.nodeEvents);
    const owners = [alice, bob, aliceElsewhere, undefined];
    const phases = ['Pending', 'Scheduling', 'Running', 'Stopped', undefined] as const;
    const reasons = ['WaitingForGPU', 'WaitingForHomeNode', 'Unschedulable', 'DesktopReady'];
    for (let step = 0; step < 600; step++) {
      const n = `s${r(40)}`;
      switch (r(6)) {
        case 0:
          sessions.remove(n);
          pods.remove(`${n}-desktop`);
          break;
        case 1:
          pods.put(
            pod(n, {
              created: r(100),
              gpu: r(2),
              ...(r(2) ? { node: `gpu-${r(3)}` } : {}),
              ...(r(5) === 0 ? { phase: 'Succeeded' } : {}),
            }),
          );
          break;
        case 2:
          if (r(3) === 0) nodes.remove(`gpu-${r(3)}`);
          else
            nodes.put(node(`gpu-${r(3)}`, { slices: 8 * (1 + r(2)), ready: r(4) > 0, cordoned: r(5) === 0 }));
          break;
        default: {
          const phase = phases[r(phases.length)];
          const owner = owners[r(owners.length)];
          sessions.put(
            session(n, {
              created: r(50),
              ...(owner ? { owner } : {}),
              ...(phase ? { phase } : {}),
              reason: reasons[r(reasons.length)]!,
              deleting: r(8) === 0,
              rv: String(step),
            }),
          );
        }
      }
      if (step % 25 !== 0) continue;
      const all = sessions.list();
      for (const o of [alice, bob, aliceElsewhere]) {
        expect(names(idx.sessionsByOwner.of(o))).toEqual(
          names(
            all.filter((s) => ownedBy(s, o)).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!)),
          ),
        );
      }
      expect(names(idx.sessionsInPageOrder.allByName())).toEqual(
        names([...all].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!))),
      );
      expect(names(idx.sessionsInPageOrder.page(1000).items)).toEqual(
        names([...all].sort((a, b) => comparePositions(positionOf(a), positionOf(b)))),
      );
      expect(idx.waitingSessions.count).toBe(waitingSessions(all));
      expect(idx.gpuSlices.summary()).toEqual(gpuCapacity(nodes.list(), pods.list(), GPU));
      expect(idx.gpuQueue.positions()).toEqual(queuePositions(all, pods.list()));
    }
  });
});
