import vm from 'node:vm';
import { FAST_RETRY_FOR_MS, FAST_RETRY_MS, startingPage } from './starting-page.js';

/** Runs the page's script as a browser would, with a clock, a location and a sessionStorage. */
function runScript(html: string, o: { now: number; stored?: string }) {
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  if (!script) throw new Error('the page has no script');
  const storage = new Map<string, string>(o.stored ? [['vdi-connecting-since', o.stored]] : []);
  const timers: { ms: number; fn: () => void }[] = [];
  const replaced: string[] = [];
  vm.runInNewContext(script, {
    Date: { now: () => o.now },
    Number,
    String,
    sessionStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
    },
    setTimeout: (fn: () => void, ms: number) => void timers.push({ fn, ms }),
    location: {
      href: 'http://a-1.vdi.localhost:8088/?vdi-ticket=T',
      replace: (u: string) => void replaced.push(u),
    },
  });
  for (const t of timers) t.fn();
  return { timers: timers.map((t) => t.ms), replaced, storage };
}

describe('the "connecting" page', () => {
  it("reloads soon (not only after the meta refresh's 2 s) while a new desktop's route is on its way", () => {
    const html = startingPage(
      'a-1.vdi.localhost:8088',
      'http://vdi.localhost:8088',
      '?vdi-ticket=T&vdi-via=P',
    );
    const first = runScript(html, { now: 1_000_000 });
    expect(first.timers).toEqual([FAST_RETRY_MS]);
    expect(first.replaced).toEqual(['?vdi-ticket=T&vdi-via=P']);
    expect(first.storage.get('vdi-connecting-since')).toBe('1000000');
    // Still fast a few seconds in; then only the meta refresh (a route that takes longer).
    expect(runScript(html, { now: 1_005_000, stored: '1000000' }).timers).toEqual([FAST_RETRY_MS]);
    expect(runScript(html, { now: 1_000_000 + FAST_RETRY_FOR_MS + 1, stored: '1000000' }).timers).toEqual([]);
    // A mark from an earlier visit (over a minute old) starts a new fast period.
    expect(runScript(html, { now: 2_000_000, stored: '1000000' }).timers).toEqual([FAST_RETRY_MS]);
    expect(html).toContain('<meta http-equiv="refresh" content="2; url=?vdi-ticket=T&amp;vdi-via=P">');
  });

  it('reloads the address as it is without a retry URL', () => {
    const html = startingPage('a-1.vdi.localhost:8088', 'http://vdi.localhost:8088');
    expect(runScript(html, { now: 5 }).replaced).toEqual(['http://a-1.vdi.localhost:8088/?vdi-ticket=T']);
  });

  it('cannot be made to end its script early by what the retry URL carries', () => {
    const html = startingPage('h', 'http://p', '?x=</script><script>alert(1)</script>');
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(runScript(html, { now: 5 }).replaced).toEqual(['?x=</script><script>alert(1)</script>']);
  });
});
