import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  archiveRefs,
  normalizeDockerRef,
  ociDocuments,
  refsFromArchiveIndex,
  writeBinaryImage,
} from './images.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

describe('OCI documents', () => {
  const docs = ociDocuments(
    { ref: 'localhost/vdi/pause:1', entrypoint: ['/pause'], user: '65535:65535' },
    'ab'.repeat(32),
    1024,
  );

  it('chain by digest: index → manifest → config and layer', () => {
    const index = JSON.parse(docs.indexJson);
    const manifest = JSON.parse(docs.manifestJson);
    expect(index.manifests[0].digest).toBe(`sha256:${sha(docs.manifestJson)}`);
    expect(index.manifests[0].size).toBe(Buffer.byteLength(docs.manifestJson));
    expect(manifest.config.digest).toBe(`sha256:${sha(docs.configJson)}`);
    expect(manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${'ab'.repeat(32)}`,
        size: 1024,
      },
    ]);
    const config = JSON.parse(docs.configJson);
    expect(config.rootfs.diff_ids).toEqual([`sha256:${'ab'.repeat(32)}`]);
    expect(config.config).toMatchObject({ Entrypoint: ['/pause'], User: '65535:65535' });
  });

  it('names the image for containerd', () => {
    expect(refsFromArchiveIndex(docs.indexJson, undefined)).toEqual(['localhost/vdi/pause:1']);
  });
});

describe('archive references', () => {
  it('reads docker save tags the way containerd names them', () => {
    const manifest = JSON.stringify([
      { RepoTags: ['selkies:2.1', 'ghcr.io/x/desk:1', 'me/desk:2', 'localhost/d:3'] },
    ]);
    expect(refsFromArchiveIndex(undefined, manifest)).toEqual([
      'docker.io/library/selkies:2.1',
      'ghcr.io/x/desk:1',
      'docker.io/me/desk:2',
      'localhost/d:3',
    ]);
    expect(normalizeDockerRef('alpine')).toBe('docker.io/library/alpine');
  });

  it('ignores bare tags in an OCI index', () => {
    const index = JSON.stringify({
      manifests: [{ annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    });
    expect(refsFromArchiveIndex(index, undefined)).toEqual([]);
  });

  it('writes a reproducible OCI archive whose references can be read back', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vdi-node-spec-'));
    try {
      const bin = path.join(dir, 'prog');
      writeFileSync(bin, '#!/bin/true\n');
      const spec = { ref: 'localhost/vdi/test:1', entrypoint: ['/prog'] };
      writeBinaryImage(bin, spec, path.join(dir, 'a.tar'));
      writeBinaryImage(bin, spec, path.join(dir, 'b.tar'));
      expect(archiveRefs(path.join(dir, 'a.tar'))).toEqual(['localhost/vdi/test:1']);
      expect(sha(readFileSync(path.join(dir, 'a.tar')))).toBe(sha(readFileSync(path.join(dir, 'b.tar'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
