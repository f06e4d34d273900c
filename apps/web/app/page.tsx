import { readRuntimeConfig } from '../lib/runtime-config';

// Read at request time on the server, so one build serves every environment.
export const dynamic = 'force-dynamic';

export default function Home() {
  const config = readRuntimeConfig(process.env);
  return (
    <main>
      <h1>VDI portal</h1>
      <p>GPU-accelerated Linux desktops in your browser.</p>
      <p>
        Identity provider: <code>{config.keycloakUrl}</code> (realm <code>{config.realm}</code>)
      </p>
    </main>
  );
}
