import { createApp } from '../bootstrap.js';

describe('health endpoints', () => {
  it('answer 200 without a token, over real HTTP', async () => {
    const app = await createApp();
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = await app.getUrl();
    try {
      for (const path of ['/healthz', '/readyz']) {
        const res = await fetch(`${base}${path}`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ status: 'ok' });
      }
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
