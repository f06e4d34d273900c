import { createApp } from './bootstrap.js';

const port = Number(process.env.PORT ?? 4000);
const app = await createApp();
await app.listen({ port, host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(JSON.stringify({ level: 'info', msg: 'api listening', port }) + '\n');
