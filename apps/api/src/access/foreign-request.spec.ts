import { foreignRequest } from './foreign-request.js';

const desktop = new URL('https://alice-1.vdi.example.com/ws?x=1');

describe('foreignRequest', () => {
  it.each([
    ['no Origin and no Fetch Metadata (curl, an old browser)', {}],
    ['the desktop’s own page', { origin: 'https://alice-1.vdi.example.com', secFetchSite: 'same-origin' }],
    [
      'a websocket from the desktop’s own page',
      { origin: 'https://alice-1.vdi.example.com', secFetchSite: 'same-origin', secFetchMode: 'websocket' },
    ],
    [
      'a navigation from the portal (same site)',
      { secFetchSite: 'same-site', secFetchMode: 'navigate', secFetchDest: 'document' },
    ],
    [
      'a link followed from another site',
      { secFetchSite: 'cross-site', secFetchMode: 'navigate', secFetchDest: 'document' },
    ],
    ['an address typed in the address bar', { secFetchSite: 'none', secFetchMode: 'navigate' }],
  ])('lets through %s', (_what, r) => {
    expect(foreignRequest(desktop, r)).toBeUndefined();
  });

  it.each([
    [
      'a websocket opened by a page on another desktop',
      { origin: 'https://bob-1.vdi.example.com', secFetchSite: 'same-site', secFetchMode: 'websocket' },
      /from https:\/\/bob-1\.vdi\.example\.com may not reach the desktop at https:\/\/alice-1/,
    ],
    [
      'the same without Fetch Metadata (Origin alone decides)',
      { origin: 'https://bob-1.vdi.example.com' },
      /from https:\/\/bob-1/,
    ],
    ['an opaque origin (sandboxed frame, file:)', { origin: 'null' }, /from null/],
    ['an empty Origin', { origin: '' }, /from an empty origin/],
    [
      'the desktop’s host over the other scheme',
      { origin: 'http://alice-1.vdi.example.com' },
      /from http:\/\/alice-1/,
    ],
    [
      'a same-site fetch without Origin (a GET no-cors)',
      { secFetchSite: 'same-site', secFetchMode: 'no-cors', secFetchDest: 'image' },
      /a same-site no-cors \(destination image\)/,
    ],
    [
      'a cross-site frame navigation (embedding)',
      { secFetchSite: 'cross-site', secFetchMode: 'navigate', secFetchDest: 'iframe' },
      /only opening it in a tab/,
    ],
    [
      'a same-site websocket without Origin',
      { secFetchSite: 'Same-Site', secFetchMode: 'websocket' },
      /a same-site websocket/,
    ],
  ])('refuses %s, saying why in one line', (_what, r, why) => {
    const reason = foreignRequest(desktop, r);
    expect(reason).toMatch(why);
    expect(reason).not.toContain('\n');
  });
});
