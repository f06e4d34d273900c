/**
 * Images on the real node. There is no registry: images are built locally as OCI image layouts
 * (a static Go binary as the only file), archived with the `tar` CLI, and imported into
 * containerd's `k8s.io` namespace with `ctr`, where the CRI plugin (and so the kubelet) finds them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The image description an OCI layout is written from (pure data). */
export interface ImageSpec {
  /** Full reference, e.g. `localhost/vdi/pause:1`. */
  ref: string;
  entrypoint: string[];
  user?: string;
  env?: string[];
  exposedPorts?: number[];
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * The OCI config, manifest and index of a one-layer image (pure). `layerDigest` is the sha256 of
 * the uncompressed layer tar (so it is also the diff id).
 */
export function ociDocuments(spec: ImageSpec, layerDigest: string, layerSize: number) {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: {
      Entrypoint: spec.entrypoint,
      ...(spec.user ? { User: spec.user } : {}),
      Env: spec.env ?? ['PATH=/'],
      ...(spec.exposedPorts?.length
        ? { ExposedPorts: Object.fromEntries(spec.exposedPorts.map((p) => [`${p}/tcp`, {}])) }
        : {}),
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
  };
  const configJson = JSON.stringify(config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${sha256(configJson)}`,
      size: Buffer.byteLength(configJson),
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: `sha256:${layerDigest}`,
        size: layerSize,
      },
    ],
  };
  const manifestJson = JSON.stringify(manifest);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: `sha256:${sha256(manifestJson)}`,
        size: Buffer.byteLength(manifestJson),
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': spec.ref, 'org.opencontainers.image.ref.name': spec.ref },
      },
    ],
  };
  return { configJson, manifestJson, indexJson: JSON.stringify(index) };
}

/** Image references an archive declares (OCI `index.json` annotations or `docker save`'s RepoTags), pure. */
export function refsFromArchiveIndex(
  indexJson: string | undefined,
  dockerManifestJson: string | undefined,
): string[] {
  const refs = new Set<string>();
  if (indexJson) {
    const index = JSON.parse(indexJson) as { manifests?: { annotations?: Record<string, string> }[] };
    for (const m of index.manifests ?? []) {
      const name =
        m.annotations?.['io.containerd.image.name'] ?? m.annotations?.['org.opencontainers.image.ref.name'];
      // A bare tag ("latest") is no reference of its own.
      if (name && /[/:]/.test(name)) refs.add(name);
    }
  }
  if (refs.size === 0 && dockerManifestJson) {
    for (const m of JSON.parse(dockerManifestJson) as { RepoTags?: string[] }[])
      for (const t of m.RepoTags ?? []) refs.add(normalizeDockerRef(t));
  }
  return [...refs];
}

/** A `docker save` tag as containerd names it (`alpine:3` → `docker.io/library/alpine:3`), pure. */
export function normalizeDockerRef(tag: string): string {
  const first = tag.split('/')[0]!;
  if (!tag.includes('/')) return `docker.io/library/${tag}`;
  if (first.includes('.') || first.includes(':') || first === 'localhost') return tag;
  return `docker.io/${tag}`;
}

/** Builds a static Go program (no cgo) from a module folder; cached by the hash of its sources. */
export function buildStaticGo(moduleDir: string, cacheDir: string): string {
  const files = readdirSync(moduleDir)
    .filter((f) => f.endsWith('.go') || f === 'go.mod')
    .sort();
  const hash = sha256(files.map((f) => f + readFileSync(path.join(moduleDir, f), 'utf8')).join('\0')).slice(
    0,
    12,
  );
  const out = path.join(cacheDir, `${path.basename(moduleDir)}-${hash}`);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', `${out}.tmp`, '.'], {
    cwd: moduleDir,
    env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  renameSync(`${out}.tmp`, out);
  return out;
}

/**
 * Writes an OCI image archive (an OCI layout, tarred) holding one static binary at `/<name>`.
 * Reproducible: fixed owner, mode and mtime, so the same binary gives the same image digest.
 */
export function writeBinaryImage(binary: string, spec: ImageSpec, outFile: string): void {
  const work = mkdtempSync(path.join(os.tmpdir(), 'vdi-image-'));
  try {
    const rootfs = path.join(work, 'rootfs');
    mkdirSync(rootfs);
    const name = spec.entrypoint[0]!.replace(/^\//, '');
    writeFileSync(path.join(rootfs, name), readFileSync(binary), { mode: 0o755 });
    const layer = path.join(work, 'layer.tar');
    const tarOpts = [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--format=posix',
      '--pax-option=delete=atime,delete=ctime',
    ];
    execFileSync('tar', ['-C', rootfs, ...tarOpts, '-cf', layer, name]);
    const layerBuf = readFileSync(layer);
    const layerDigest = sha256(layerBuf);
    const docs = ociDocuments(spec, layerDigest, layerBuf.length);
    const layout = path.join(work, 'layout');
    const blobs = path.join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    renameSync(layer, path.join(blobs, layerDigest));
    writeFileSync(path.join(blobs, sha256(docs.configJson)), docs.configJson);
    writeFileSync(path.join(blobs, sha256(docs.manifestJson)), docs.manifestJson);
    writeFileSync(path.join(layout, 'index.json'), docs.indexJson);
    writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    mkdirSync(path.dirname(outFile), { recursive: true });
    execFileSync('tar', [
      '-C',
      layout,
      ...tarOpts,
      '-cf',
      `${outFile}.tmp`,
      'oci-layout',
      'index.json',
      'blobs',
    ]);
    renameSync(`${outFile}.tmp`, outFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Reads the image references an archive declares, with the `tar` CLI. */
export function archiveRefs(archive: string): string[] {
  const member = (name: string): string | undefined => {
    try {
      return execFileSync('tar', ['-xOf', archive, name], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 64 << 20,
      });
    } catch {
      return undefined;
    }
  };
  return refsFromArchiveIndex(member('index.json'), member('manifest.json'));
}

export interface CtrContext {
  ctr: string;
  socket: string;
  namespace: string;
}

function ctrArgs(c: CtrContext, args: string[]): string[] {
  return ['--address', c.socket, '--namespace', c.namespace, ...args];
}

/** Image references in the namespace (content digests that name no image are left out). */
export function listImages(c: CtrContext): string[] {
  const out = execFileSync(c.ctr, ctrArgs(c, ['images', 'list', '--quiet']), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('sha256:'));
}

export interface ImportProgress {
  /** Bytes of the archive sent to containerd so far. */
  bytes: number;
  totalBytes: number;
  /** `skipped` when every reference was already present. */
  phase: 'importing' | 'unpacking' | 'done' | 'skipped';
}

export interface ImportResult {
  refs: string[];
  skipped: boolean;
  ms: number;
}

/**
 * Imports an image archive (OCI layout or `docker save` tar) into the namespace and unpacks it,
 * streaming it to `ctr` so progress can be reported. Idempotent: nothing is done when every
 * reference the archive declares is already there.
 */
export async function importArchive(
  c: CtrContext,
  archive: string,
  onProgress: (p: ImportProgress) => void = () => undefined,
): Promise<ImportResult> {
  const t0 = Date.now();
  if (!existsSync(archive)) throw new Error(`image archive ${archive} does not exist`);
  const totalBytes = statSync(archive).size;
  const refs = archiveRefs(archive);
  const present = new Set(listImages(c));
  if (refs.length > 0 && refs.every((r) => present.has(r))) {
    onProgress({ bytes: totalBytes, totalBytes, phase: 'skipped' });
    return { refs, skipped: true, ms: Date.now() - t0 };
  }
  await new Promise<void>((resolve, reject) => {
    const child = spawn(c.ctr, ctrArgs(c, ['images', 'import', '--snapshotter', 'overlayfs', '-']), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let bytes = 0;
    let last = 0;
    const input = createReadStream(archive);
    input.on('data', (chunk) => {
      bytes += chunk.length;
      if (Date.now() - last > 1000 || bytes === totalBytes) {
        last = Date.now();
        onProgress({ bytes, totalBytes, phase: bytes === totalBytes ? 'unpacking' : 'importing' });
      }
    });
    input.on('error', reject);
    input.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`ctr import of ${archive} failed (exit ${code}): ${output.trim()}`)),
    );
  });
  const after = new Set(listImages(c));
  const missing = refs.filter((r) => !after.has(r));
  if (missing.length > 0)
    throw new Error(`ctr imported ${archive} but ${missing.join(', ')} is not listed afterwards`);
  onProgress({ bytes: totalBytes, totalBytes, phase: 'done' });
  return { refs, skipped: false, ms: Date.now() - t0 };
}
