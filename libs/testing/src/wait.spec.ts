import { waitFor } from './namespace.js';

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(waitFor('n to reach 3', async () => (++n >= 3 ? n : undefined), 2000, 5)).resolves.toBe(3);
  });
  it('names what it waited for and the last error when it times out', async () => {
    await expect(
      waitFor(
        'the pod to run',
        async () => {
          throw new Error('connection refused');
        },
        50,
        5,
      ),
    ).rejects.toThrow(
      /timed out after 50 ms waiting for the pod to run \(last error: Error: connection refused\)/,
    );
  });
});
