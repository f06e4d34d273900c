import { forwardedUrl } from './forward-auth.controller.js';

describe('forwardedUrl', () => {
  it('rebuilds the URL the browser asked for from Traefik’s X-Forwarded-* headers', () => {
    expect(
      forwardedUrl({
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'alice-1.vdi.example.com',
        'x-forwarded-uri': '/?vdi-ticket=T',
      })?.toString(),
    ).toBe('https://alice-1.vdi.example.com/?vdi-ticket=T');
    expect(forwardedUrl({ 'x-forwarded-host': 'h:8081', 'x-forwarded-uri': 'x' })?.toString()).toBe(
      'http://h:8081/x',
    );
  });

  it('is undefined without a host or with one that is not a host', () => {
    expect(forwardedUrl({})).toBeUndefined();
    expect(forwardedUrl({ 'x-forwarded-host': 'a b' })).toBeUndefined();
  });

  it('never takes a scheme other than http(s) from the header', () => {
    expect(forwardedUrl({ 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'h' })?.protocol).toBe(
      'http:',
    );
  });
});

describe('startingPage', () => {
  it('reloads itself, names the address, links back to the portal, and escapes what it echoes', async () => {
    const { startingPage } = await import('./starting-page.js');
    const html = startingPage('a-1.vdi.localhost:8088', 'http://vdi.localhost:8088');
    expect(html).toContain('<meta http-equiv="refresh" content="2">');
    expect(html).toContain('<code>a-1.vdi.localhost:8088</code>');
    expect(html).toContain('href="http://vdi.localhost:8088/sessions"');
    expect(startingPage('<script>x</script>', 'http://p')).not.toContain('<script>x');
  });
});

describe('startingRetryUrl', () => {
  const base = {
    host: 'alice-1.vdi.localhost:8088',
    portalUrl: 'http://vdi.localhost:8088',
    secret: 's'.repeat(64),
  };

  it('adds the portal proof to a ticket request that came from the portal, keeping the rest', async () => {
    const { startingRetryUrl, startingPage } = await import('./starting-page.js');
    const { viaProof } = await import('./access-tokens.js');
    const retry = startingRetryUrl({
      ...base,
      search: '?a=1&vdi-ticket=T',
      referer: 'http://vdi.localhost:8088/open/alice-1',
    });
    expect(retry).toBe(`?a=1&vdi-ticket=T&vdi-via=${viaProof(base.secret, base.host, 'T')}`);
    const html = startingPage(base.host, base.portalUrl, retry);
    expect(html).toContain(`<meta http-equiv="refresh" content="2; url=?a=1&amp;vdi-ticket=T&amp;vdi-via=`);
  });

  it.each([
    ['no Referer', { search: '?vdi-ticket=T', referer: undefined }],
    ['a Referer of another origin', { search: '?vdi-ticket=T', referer: 'http://evil.example/x' }],
    [
      'the desktop’s own Referer (its own reload)',
      { search: '?vdi-ticket=T', referer: 'http://alice-1.vdi.localhost:8088/' },
    ],
    ['a Referer that is no URL', { search: '?vdi-ticket=T', referer: 'nonsense' }],
    ['no ticket', { search: '?a=1', referer: 'http://vdi.localhost:8088/' }],
    ['a proof already there', { search: '?vdi-ticket=T&vdi-via=P', referer: 'http://vdi.localhost:8088/' }],
  ])('gives no proof for %s (the page reloads its address as it is)', async (_what, r) => {
    const { startingRetryUrl } = await import('./starting-page.js');
    expect(startingRetryUrl({ ...base, ...r })).toBeUndefined();
  });
});
