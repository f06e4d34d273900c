import { describe, expect, it } from '@jest/globals';
import { escapeHtml, standinInfo, standinPage, STANDIN_NOTICE, unknownPodPage } from './standin-page.js';

const entry = { session: 'sess-1', namespace: 'team-a', pod: 'sess-1-desktop', owner: 'alice' };

describe('standinPage', () => {
  it('says it is a stand-in in the title, a banner and the heading, naming session and user', () => {
    const html = standinPage(entry, { podIp: '198.18.0.5', user: 'alice', host: 'sess-1.vdi.localhost' });
    expect(html).toMatch(/<title>STAND-IN desktop: sess-1 \(not a real desktop\)<\/title>/);
    expect(html).toContain(STANDIN_NOTICE);
    expect(STANDIN_NOTICE).toMatch(/not a real Selkies desktop/);
    expect(html).toMatch(/<h1>STAND-IN desktop for session <span id="session">sess-1<\/span><\/h1>/);
    expect(html).toContain('<strong id="user">alice</strong>');
    expect(html).toContain('<meta name="vdi-session" content="sess-1">');
    expect(html).toContain('198.18.0.5');
  });

  it('says when no user was forwarded', () => {
    const html = standinPage(entry, { podIp: '198.18.0.5' });
    expect(html).toMatch(/no X-Forwarded-User header/);
    expect(html).toContain('<meta name="vdi-user" content="">');
  });

  it('escapes what comes from the request', () => {
    const html = standinPage(entry, { podIp: '198.18.0.5', user: '<script>x</script>"' });
    expect(html).not.toContain('<script>x</script>');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;&quot;');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('standinInfo and unknownPodPage', () => {
  it('gives the same facts as JSON', () => {
    expect(standinInfo(entry, { podIp: '198.18.0.5', user: 'bob' })).toEqual({
      standin: true,
      kind: 'vdi-desktop-standin',
      session: 'sess-1',
      namespace: 'team-a',
      pod: 'sess-1-desktop',
      podIp: '198.18.0.5',
      owner: 'alice',
      user: 'bob',
      host: null,
      basicAuth: 'off',
    });
    const locked = { ...entry, basicAuth: { user: 'vdi', authorizationSha256: 'ab' } };
    expect(standinInfo(locked, { podIp: '198.18.0.5' }).basicAuth).toBe('passed');
    expect(JSON.stringify(standinInfo(locked, { podIp: '198.18.0.5' }))).not.toContain('"ab"');
  });

  it('explains an address without a session', () => {
    expect(unknownPodPage({ podIp: '198.18.9.9' }, 3)).toMatch(
      /No session pod has the address 198\.18\.9\.9 .*knows 3/s,
    );
  });
});
