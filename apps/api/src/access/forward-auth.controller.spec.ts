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
