import { escapeXml, logTicks, niceTicks, renderChart } from './chart.js';

describe('niceTicks', () => {
  it.each([
    [10, 5, [0, 2, 4, 6, 8, 10]],
    [7, 5, [0, 2, 4, 6, 8]],
    [480, 5, [0, 100, 200, 300, 400, 500]],
    [0.3, 3, [0, 0.1, 0.2, 0.3]],
  ])('up to %p in about %p steps: %p', (max, count, want) => {
    expect(niceTicks(max, count)).toEqual(want);
  });
  it('has a range when there is nothing to show', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(NaN)).toEqual([0, 1]);
  });
});

describe('logTicks', () => {
  it('gives the decades up to the maximum', () => {
    expect(logTicks(9384)).toEqual([1, 10, 100, 1000, 10000]);
    expect(logTicks(0.5)).toEqual([1, 10]);
  });
});

describe('renderChart', () => {
  const svg = renderChart('Bench <1>', [
    {
      kind: 'line',
      title: 'Running',
      xLabel: 's',
      yLabel: 'sessions',
      series: [
        {
          label: 'floor',
          points: [
            [0, 0],
            [1, 5],
            [2, 10],
          ],
        },
        {
          label: 'operator',
          points: [
            [0, 0],
            [3, 10],
          ],
        },
      ],
    },
    {
      kind: 'bar',
      title: 'Latency',
      yLabel: 'ms',
      keys: ['p50', 'p99'],
      groups: [
        { label: 'floor', values: [10, 20] },
        { label: 'operator', values: [30, NaN] },
      ],
      target: { value: 25, label: 'target 25 ms' },
    },
  ]);

  it('is one SVG document with a panel per input, escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Bench &lt;1&gt;');
    expect(svg.match(/<g transform/g)).toHaveLength(2);
  });

  it('draws a polyline per series with every point, and a bar per finite value', () => {
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' '));
    expect(lines.map((l) => l.length)).toEqual([3, 2]);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(3);
    expect(svg).toContain('target 25 ms');
  });

  it('keeps every coordinate a finite number', () => {
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('puts a value on a log axis where its decade is', () => {
    const log = renderChart('x', [
      {
        kind: 'bar',
        title: 't',
        yLabel: 'ms',
        keys: ['p50'],
        groups: [{ label: 'a', values: [100] }],
        log: true,
      },
    ]);
    // 1..100 spans the whole height (260 px from y=40 to y=250): the bar reaches the top.
    expect(log).toMatch(/<rect x="[\d.]+" y="40\.0" width="[\d.]+" height="210\.0"/);
  });
});

describe('escapeXml', () => {
  it('escapes markup characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});
