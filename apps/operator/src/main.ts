/**
 * The session operator's entry point: configuration and lifecycle only.
 * (The reconcile engine arrives with the operator issue; until then it validates its config
 * and says so, rather than pretending to reconcile.)
 */
import { loadOperatorConfig } from './config.js';

try {
  const config = loadOperatorConfig();
  process.stdout.write(
    JSON.stringify({
      level: 'info',
      msg: 'operator configuration valid; reconcile engine not built yet',
      config,
    }) + '\n',
  );
} catch (err) {
  process.stderr.write(JSON.stringify({ level: 'error', msg: (err as Error).message }) + '\n');
  process.exit(1);
}
