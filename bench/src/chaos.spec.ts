import type { VDISession } from '@vdi/crd-types';
import { LABEL_SESSION } from '@vdi/session-spec';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeComponents, describeStuckSessions, stuckSessionNames } from './chaos.js';
import { checkInvariants } from './invariants.js';

const session = (name: string, status: VDISession['status'], deleted?: string): VDISession => ({
  apiVersion: 'vdi.kasm.io/v1alpha1',
  kind: 'VDISession',
  metadata: {
    name,
    uid: `uid-${name}`,
    finalizers: ['vdi.kasm.io/session'],
    ...(deleted ? { deletionTimestamp: deleted as unknown as Date } : {}),
  },
  spec: { template: 't' } as VDISession['spec'],
  ...(status ? { status } : {}),
});

/** The scheduler's verdict on a pod it found no node for. */
const unschedulable = (message: string) => ({
  type: 'PodScheduled',
  status: 'False',
  reason: 'Unschedulable',
  message,
});

describe('the sessions a chaos run left stuck', () => {
  it('names each session an invariant names, once, leaked children by their session', () => {
    const r = checkInvariants(
      [
        { name: 'a', uid: 'ua', finalizers: [], phase: 'Pending' },
        { name: 'b', uid: 'ub', finalizers: ['f'], deletionTimestamp: '2026-12-05T10:00:00Z' },
        { name: 'c', uid: 'uc', finalizers: [], phase: 'Running' },
      ],
      [
        {
          kind: 'pods',
          name: 'a-1',
          session: 'a',
          ownerReferences: [{ kind: 'VDISession', name: 'a', uid: 'ua', controller: true }],
        },
        {
          kind: 'pods',
          name: 'a-2',
          session: 'a',
          ownerReferences: [{ kind: 'VDISession', name: 'a', uid: 'ua', controller: true }],
        },
        { kind: 'pods', name: 'gone-1', session: 'gone', ownerReferences: [] },
        {
          kind: 'services',
          name: 'c',
          session: 'c',
          ownerReferences: [{ kind: 'VDISession', name: 'c', uid: 'old', controller: true }],
        },
      ],
      new Set(['a', 'c', 'missing']),
    );
    expect(stuckSessionNames(r)).toEqual(['a', 'b', 'missing', 'gone', 'c']);
  });

  it('describes each in one block: phase, deletion, finalizers, conditions and pods', () => {
    const blocks = describeStuckSessions(
      ['a', 'b', 'nope'],
      [
        session('a', {
          phase: 'Pending',
          reason: 'Scheduling',
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'PodNotReady',
              message: 'waiting for the desktop',
              lastTransitionTime: '2026-12-05T10:00:00Z',
            },
          ],
        }),
        session('b', undefined, '2026-12-05T10:01:00Z'),
      ],
      [
        {
          metadata: { name: 'a', uid: 'pa', labels: { [LABEL_SESSION]: 'a' } },
          spec: { containers: [] },
          status: {
            phase: 'Pending',
            conditions: [unschedulable('0/3 nodes are available'), { type: 'Initialized', status: 'True' }],
          },
        },
        {
          metadata: { name: 'other', uid: 'po', labels: { [LABEL_SESSION]: 'c' } },
          spec: { nodeName: 'n1', containers: [] },
          status: { phase: 'Running' },
        },
      ],
    );
    expect(blocks).toEqual([
      [
        'session a (uid uid-a): phase Pending (Scheduling), finalizers vdi.kasm.io/session',
        '    condition Ready=False (PodNotReady: waiting for the desktop)',
        '    pod a (uid pa): Pending, node none; not true: PodScheduled=False (Unschedulable: 0/3 nodes are available)',
      ].join('\n'),
      [
        'session b (uid uid-b): phase none, deleted at 2026-12-05T10:01:00Z, finalizers vdi.kasm.io/session',
        '    no pod',
      ].join('\n'),
      ['session nope: not in the API server', '    no pod'].join('\n'),
    ]);
  });

  it('shows a pod’s containers that wait, ended or restarted', () => {
    const [block] = describeStuckSessions(
      ['a'],
      [session('a', { phase: 'Starting' })],
      [
        {
          metadata: {
            name: 'a',
            uid: 'pa',
            labels: { [LABEL_SESSION]: 'a' },
            deletionTimestamp: '2026-12-05T10:02:00Z' as unknown as Date,
          },
          spec: { nodeName: 'kwok-1', containers: [] },
          status: {
            phase: 'Running',
            containerStatuses: [
              {
                name: 'desktop',
                ready: false,
                restartCount: 2,
                image: 'i',
                imageID: '',
                state: { waiting: { reason: 'CrashLoopBackOff' } },
              },
              {
                name: 'side',
                ready: false,
                restartCount: 0,
                image: 'i',
                imageID: '',
                state: { terminated: { exitCode: 137 } },
              },
            ],
          },
        },
      ],
    );
    expect(block!.split('\n')[1]).toBe(
      '    pod a (uid pa): Running, node kwok-1, deleted at 2026-12-05T10:02:00Z; containers: desktop waiting CrashLoopBackOff (2 restarts), side terminated 137',
    );
  });
});

describe('describeComponents', () => {
  it('says whether the scheduler and the controller manager are alive, with the end of their logs', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chaos-spec-'));
    const log = path.join(dir, 'kube-scheduler.log');
    writeFileSync(log, Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    // A pid that is certainly gone: a child that already exited and was reaped.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const [scheduler, manager, missing] = describeComponents(
      [
        { name: 'kube-scheduler', pid: process.pid, log },
        { name: 'kube-controller-manager', pid: gone, log: path.join(dir, 'absent.log') },
      ],
      ['kube-scheduler', 'kube-controller-manager', 'etcd'],
      3,
    );
    expect(scheduler).toBe(
      `kube-scheduler (pid ${process.pid}, alive): the last 3 lines of ${log}:\nline 38\nline 39\nline 40`,
    );
    expect(manager).toMatch(/^kube-controller-manager \(pid \d+, gone\): .*could not be read/s);
    expect(missing).toBe("etcd: not among the cluster's processes");
  });
});
