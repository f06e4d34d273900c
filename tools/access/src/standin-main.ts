/**
 * Entry point of the stand-in process, started by startStandins() inside the desktop network:
 *   ip netns exec vdi-desktops node standin-main.js --port 8080 --maps-dir <dir>
 * Exits 0 when no watcher is left, 98 when the port is taken (another stand-in serves it).
 */
import { parseArgs } from 'node:util';
import { EXIT_ADDRESS_IN_USE, runStandinServer } from './standin-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'maps-dir': { type: 'string' },
    'idle-exit-ms': { type: 'string' },
  },
});
if (!values.port || !values['maps-dir']) {
  process.stderr.write('usage: standin-main --port PORT --maps-dir DIR [--idle-exit-ms MS]\n');
  process.exit(2);
}

try {
  const s = await runStandinServer({
    port: Number(values.port),
    mapsDir: values['maps-dir'],
    ...(values['idle-exit-ms'] ? { idleExitMs: Number(values['idle-exit-ms']) } : {}),
  });
  const shutdown = () => void s.close().then(() => process.exit(0));
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await s.idle;
  process.exit(0);
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  process.stderr.write(`stand-in: ${(err as Error).message}\n`);
  process.exit(code === 'EADDRINUSE' ? EXIT_ADDRESS_IN_USE : 1);
}
