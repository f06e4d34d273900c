import { heapBySpace, memoryRows, processMemory, rssOutsideHeap, type ProcessMemory } from './heap.js';
import type { ProbeAnswer } from './probe.js';

const MB = 1e6;
const memory: ProcessMemory = {
  rssBytes: 150 * MB,
  heapSpaces: [
    { name: 'read_only_space', sizeBytes: 0, usedBytes: 0, physicalBytes: 0 },
    { name: 'new_space', sizeBytes: 16 * MB, usedBytes: 2 * MB, physicalBytes: 8 * MB },
    { name: 'old_space', sizeBytes: 90 * MB, usedBytes: 70 * MB, physicalBytes: 85 * MB },
    { name: 'code_space', sizeBytes: 4 * MB, usedBytes: 3.5 * MB, physicalBytes: 4 * MB },
    { name: 'large_object_space', sizeBytes: 3 * MB, usedBytes: 3 * MB, physicalBytes: 3 * MB },
  ],
  heap: { totalBytes: 113 * MB, physicalBytes: 100 * MB, usedBytes: 78.5 * MB, mallocedBytes: 0.5 * MB },
  externalBytes: 2 * MB,
};

describe('a process’s memory beside V8’s heap', () => {
  it('takes the RSS, the spaces and the totals from the probe’s answer', () => {
    const answer = {
      memory: { rss: 150 * MB, heapTotal: 0, heapUsed: 0, external: 2 * MB, arrayBuffers: 0 },
      heapSpaces: memory.heapSpaces,
      heap: memory.heap,
    } as unknown as ProbeAnswer;
    expect(processMemory(answer)).toEqual(memory);
  });

  it('counts the RSS outside the heap’s resident pages, never below zero', () => {
    expect(rssOutsideHeap(memory)).toBe(50 * MB);
    expect(rssOutsideHeap({ ...memory, rssBytes: 90 * MB })).toBe(0);
  });

  it('lists the spaces that hold anything, largest first, used / resident', () => {
    expect(heapBySpace(memory)).toBe(
      'old 70.0 / 85.0 MB, new 2.0 / 8.0 MB, code 3.5 / 4.0 MB, large object 3.0 / 3.0 MB',
    );
  });

  it('gives the report one row each: by space, in total, outside the heap', () => {
    expect(memoryRows('operator', memory)).toEqual([
      ['operator: V8 heap by space (used / resident)', heapBySpace(memory)],
      [
        'operator: V8 heap in total (used / resident)',
        '78.5 MB / 100.0 MB; V8’s own malloc 0.5 MB, external 2.0 MB',
      ],
      ['operator: RSS outside V8’s heap', '50.0 MB of 150.0 MB RSS (33 %)'],
    ]);
  });
});
