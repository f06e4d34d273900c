/**
 * Records every state the session page shows (headline and the state of each step), in Node, as
 * it happens: a MutationObserver in the page reports each change through a binding, so the
 * record survives the page navigating away to the desktop.
 */
import type { BrowserContext } from 'playwright-core';

export interface ProgressSnapshot {
  path: string;
  headline: string;
  steps: Record<string, string>;
}

export async function recordProgress(context: BrowserContext): Promise<ProgressSnapshot[]> {
  const seen: ProgressSnapshot[] = [];
  await context.exposeBinding('__vdiProgress', (_source, snap: ProgressSnapshot) => {
    seen.push(snap);
  });
  await context.addInitScript(() => {
    let last = '';
    const report = () => {
      const items = document.querySelectorAll('ol.steps > li[data-step]');
      if (!items.length) return;
      const snap = {
        path: location.pathname,
        headline: document.querySelector('.progress-headline')?.textContent ?? '',
        steps: Object.fromEntries(
          Array.from(items, (li) => [li.getAttribute('data-step'), li.getAttribute('data-state')]),
        ),
      };
      const key = JSON.stringify(snap);
      if (key === last) return;
      last = key;
      (window as unknown as { __vdiProgress(s: unknown): void }).__vdiProgress(snap);
    };
    new MutationObserver(report).observe(document, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
  });
  return seen;
}
