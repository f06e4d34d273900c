/**
 * The Keycloak server distribution, fetched once per version: Maven resolves
 * `org.keycloak:keycloak-quarkus-dist:<version>:zip` from Maven Central (or the mirror of
 * ~/.m2/settings.xml; checksums verified by Maven) and it is unpacked into
 * `<cache>/keycloak/<version>/` (`bin/kc.sh`, `lib/`, …). A `.complete` marker makes the step a
 * no-op afterwards; an interrupted download leaves only a temporary directory behind, which the
 * next run removes.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { JavaInstall } from './java.js';

export type Logger = (msg: string) => void;

export function distributionDir(cacheDir: string, version: string): string {
  return path.join(cacheDir, version);
}

export function isInstalled(cacheDir: string, version: string): boolean {
  return existsSync(path.join(distributionDir(cacheDir, version), '.complete'));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Runs Maven's dependency:copy, echoing its download lines and a heartbeat while it works. */
function mavenCopy(artifact: string, outDir: string, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['-B', 'dependency:copy', `-Dartifact=${artifact}`, `-DoutputDirectory=${outDir}`];
    const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = Date.now();
    const output: string[] = [];
    const onData = (buf: Buffer) => {
      for (const line of buf.toString().split('\n')) {
        const clean = line
          .replace(/\x1b\[[0-9;]*m/g, '')
          .replace(/^\[INFO\]\s*/, '')
          .trim();
        if (!clean) continue;
        output.push(clean);
        if (/keycloak-quarkus-dist/.test(clean) && /^Download(ing|ed)/.test(clean)) log(`mvn: ${clean}`);
        else if (/^\[ERROR\]/.test(clean)) log(`mvn: ${clean}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const beat = setInterval(
      () => log(`still fetching ${artifact} (${Math.round((Date.now() - t0) / 1000)}s)`),
      15_000,
    );
    child.on('error', (err) => {
      clearInterval(beat);
      reject(new Error(`could not run mvn: ${err.message}`));
    });
    child.on('close', (code) => {
      clearInterval(beat);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `mvn could not fetch ${artifact} (exit ${code}); is Maven Central (or your ~/.m2/settings.xml mirror) reachable?\n` +
              output.slice(-15).join('\n'),
          ),
        );
    });
  });
}

/**
 * Makes sure Keycloak `version` is unpacked under `cacheDir` and returns its home directory.
 * Progress goes to `log`; the first call downloads ~170 MB.
 */
export async function ensureDistribution(
  version: string,
  cacheDir: string,
  java: JavaInstall,
  log: Logger,
): Promise<string> {
  const home = distributionDir(cacheDir, version);
  if (isInstalled(cacheDir, version)) return home;
  if (!has('mvn')) {
    throw new Error(
      `Maven (mvn) is needed once to fetch Keycloak ${version} from Maven Central; install it (apt-get install maven) or unpack keycloak-${version}.zip into ${home} and create ${path.join(home, '.complete')}`,
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  // Leftovers of interrupted runs (their process is gone); a concurrent run's directory stays.
  for (const d of readdirSync(cacheDir)) {
    const m = new RegExp(`^\\.tmp-${version.replace(/\./g, '\\.')}-(\\d+)$`).exec(d);
    if (m && !pidAlive(Number(m[1]))) rmSync(path.join(cacheDir, d), { recursive: true, force: true });
  }
  const tmp = path.join(cacheDir, `.tmp-${version}-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const artifact = `org.keycloak:keycloak-quarkus-dist:${version}:zip`;
    log(`fetching ${artifact} with Maven (first time only; ~170 MB, cached in ${home})`);
    const t0 = Date.now();
    await mavenCopy(artifact, tmp, log);
    const zip = path.join(tmp, `keycloak-quarkus-dist-${version}.zip`);
    if (!existsSync(zip)) throw new Error(`mvn finished but ${zip} is missing`);
    log(
      `fetched ${(statSync(zip).size / 1024 / 1024).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)}s; unpacking`,
    );
    const t1 = Date.now();
    const unpackDir = path.join(tmp, 'unpacked');
    mkdirSync(unpackDir);
    const r = has('unzip')
      ? spawnSync('unzip', ['-q', zip, '-d', unpackDir], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawnSync(path.join(java.home, 'bin', 'jar'), ['xf', zip], {
          cwd: unpackDir,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
    if (r.status !== 0) throw new Error(`could not unpack ${zip}: ${r.stderr?.toString() ?? r.error}`);
    const top = path.join(unpackDir, `keycloak-${version}`);
    if (!existsSync(path.join(top, 'bin', 'kc.sh'))) {
      throw new Error(`${zip} does not contain keycloak-${version}/bin/kc.sh; delete ${tmp} and retry`);
    }
    // `jar xf` does not keep the executable bits.
    for (const f of readdirSync(path.join(top, 'bin'))) {
      if (f.endsWith('.sh')) chmodSync(path.join(top, 'bin', f), 0o755);
    }
    // A concurrent run may have finished first (and may be running it): keep that one.
    if (isInstalled(cacheDir, version)) return home;
    rmSync(home, { recursive: true, force: true });
    renameSync(top, home);
    writeFileSync(
      path.join(home, '.complete'),
      JSON.stringify({ artifact, fetchedAt: new Date().toISOString() }) + '\n',
    );
    log(`unpacked in ${((Date.now() - t1) / 1000).toFixed(1)}s into ${home}`);
    return home;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
