import type * as k8s from '@kubernetes/client-node';
import { GraphQLError } from 'graphql';
import { checkSchedule, largestSize, parseNodeSelector, podsThatFit } from './pools.service.js';

const node = (name: string, cpu: string, memory: string, gpu?: string): k8s.V1Node => ({
  metadata: { name },
  status: { allocatable: { cpu, memory, ...(gpu ? { 'nvidia.com/gpu': gpu } : {}) } },
});
const pod = (nodeName: string, cpu: string, memory: string, gpu?: string): k8s.V1Pod => ({
  metadata: { name: `p-${Math.random()}` },
  spec: {
    nodeName,
    containers: [
      {
        name: 'desktop',
        resources: { requests: { cpu, memory }, ...(gpu ? { limits: { 'nvidia.com/gpu': gpu } } : {}) },
      },
    ],
  },
  status: { phase: 'Running' },
});

describe('podsThatFit', () => {
  it('counts what fits in each node after its pods, by CPU, memory and GPU time-slices', () => {
    const nodes = [node('a', '8', '32Gi'), node('b', '4', '4Gi')];
    const need = { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, gpu: 0 };
    // a: 8 CPU / 32Gi → 4 by CPU; b: 4 CPU / 4Gi → 1 by memory.
    expect(podsThatFit(nodes, [], need, 'nvidia.com/gpu')).toBe(5);
    // A pod on a takes 4 CPUs: 2 left there.
    expect(podsThatFit(nodes, [pod('a', '4', '1Gi')], need, 'nvidia.com/gpu')).toBe(3);
    // Finished pods hold nothing.
    const done = { ...pod('a', '8', '1Gi'), status: { phase: 'Succeeded' } };
    expect(podsThatFit(nodes, [done], need, 'nvidia.com/gpu')).toBe(5);
  });

  it('counts free GPU time-slices for GPU desktops', () => {
    const nodes = [node('g', '512', '4Ti', '8')];
    const need = { cpuMillis: 1000, memoryBytes: 2 ** 30, gpu: 1 };
    expect(
      podsThatFit(nodes, [pod('g', '1', '1Gi', '1'), pod('g', '1', '1Gi', '1')], need, 'nvidia.com/gpu'),
    ).toBe(6);
  });
});

describe('parseNodeSelector', () => {
  it('reads k=v pairs and refuses anything else, naming it', () => {
    expect(parseNodeSelector('')).toBeUndefined();
    expect(parseNodeSelector(' zone=a, kubernetes.io/hostname=n1 ')).toEqual({
      zone: 'a',
      'kubernetes.io/hostname': 'n1',
    });
    expect(() => parseNodeSelector('zone')).toThrow(GraphQLError);
    expect(() => parseNodeSelector('zone=a b')).toThrow(/'zone=a b' is not a label key=value pair/);
  });
});

describe('checkSchedule', () => {
  const win = (w: Partial<{ days: string[]; start: string; end: string; size: number }> = {}) => ({
    days: ['Mon'],
    start: '09:00',
    end: '17:00',
    size: 3,
    ...w,
  });
  const refused = (input: Parameters<typeof checkSchedule>[0]) => {
    try {
      checkSchedule(input);
    } catch (err) {
      expect(err).toBeInstanceOf(GraphQLError);
      return (err as GraphQLError).message;
    }
    throw new Error('accepted');
  };

  it('accepts working hours and an overnight window, time zone kept', () => {
    expect(
      checkSchedule({ timeZone: 'Europe/Berlin', windows: [win(), win({ start: '22:00', end: '06:00' })] }),
    ).toEqual({
      timeZone: 'Europe/Berlin',
      windows: [
        { days: ['Mon'], start: '09:00', end: '17:00', size: 3 },
        { days: ['Mon'], start: '22:00', end: '06:00', size: 3 },
      ],
    });
  });

  it('refuses a bad time zone, day, time, empty window and size, naming the field', () => {
    expect(refused({ timeZone: 'Mars/Base', windows: [win()] })).toMatch(/Mars\/Base.*IANA/);
    expect(refused({ windows: [win({ days: ['Monday'] })] })).toMatch(/windows\[0\]\.days.*is not a day/);
    expect(refused({ windows: [win({ start: '9:00' })] })).toMatch(/windows\[0\]\.start/);
    expect(refused({ windows: [win({ end: '24:30' })] })).toMatch(/windows\[0\]\.end/);
    expect(refused({ windows: [win(), win({ start: '10:00', end: '10:00' })] })).toMatch(
      /windows\[1\]: starts and ends at 10:00/,
    );
    expect(refused({ windows: [win({ size: 501 })] })).toMatch(/windows\[0\]\.size: 501/);
  });

  it('takes the largest of the size and every window for the capacity check', () => {
    expect(largestSize(2, undefined)).toBe(2);
    expect(largestSize(2, checkSchedule({ windows: [win({ size: 7 }), win({ size: 4 })] }))).toBe(7);
    expect(largestSize(9, checkSchedule({ windows: [win({ size: 7 })] }))).toBe(9);
  });
});
