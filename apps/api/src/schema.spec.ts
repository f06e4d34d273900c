import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { format } from 'prettier';
import { createApp, SCHEMA_FILE } from './bootstrap.js';
import { loadConfig } from './config.js';

describe('schema.gql', () => {
  // The committed file is prettier-formatted (the repo formats everything), so the comparison is too.
  it('is what the code generates (regenerate: VDI_API_WRITE_SCHEMA=1 on this test)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vdi-api-schema-'));
    const file = path.join(dir, 'schema.gql');
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'none' }],
      contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
      currentContext: 'none',
    });
    const app = await createApp({
      config: loadConfig({
        VDI_OIDC_ISSUER: 'http://127.0.0.1:1/realms/none',
        VDI_SESSION_KEY: 'f'.repeat(8) + 'a1b2c3d4'.repeat(4),
      }),
      kubeConfig: kc,
      schemaFile: file,
    });
    try {
      await app.init();
      const generated = await format(readFileSync(file, 'utf8'), { parser: 'graphql', printWidth: 110 });
      if (process.env.VDI_API_WRITE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, generated);
      expect(generated).toEqual(readFileSync(SCHEMA_FILE, 'utf8'));
      for (const op of ['me:', 'templates:', 'sessions(all: Boolean = false)', 'session(name: String!)']) {
        expect(generated).toContain(op);
      }
      expect(generated).toContain('createSession(input: CreateSessionInput!): Session!');
      expect(generated).toContain('deleteSession(name: String!): Boolean!');
      expect(generated).toMatch(/sessionPage\([^)]*after: String[^)]*first: Int = 100[^)]*\): SessionPage!/);
      // Phase and reason are enums built from @vdi/crd-types, not free strings.
      expect(generated).toContain('phase: SessionPhase!');
      expect(generated).toContain('reason: SessionReason\n');
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
