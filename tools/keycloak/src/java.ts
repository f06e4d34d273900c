/**
 * Which Java runs Keycloak. Keycloak supports only some Java feature releases per version line
 * (26.7: 17 or 25; 26.4–26.5: 17 or 21), and a machine may have several JDKs, so the scripts pick
 * a supported one from what is installed instead of trusting `java` on the PATH — and say which.
 * The choice is a pure function of the installs found; finding them reads the JDKs' `release`
 * files.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface JavaInstall {
  /** JAVA_HOME of the install (symlinks resolved). */
  home: string;
  /** Feature release, e.g. 25 for 25.0.3, 8 for 1.8.0_392. */
  major: number;
  /** Full version string from the `release` file, e.g. 25.0.3. */
  version: string;
}

/** Newest first: among supported releases, the scripts take the newest installed one. */
export const JAVA_PREFERENCE = [25, 21, 17] as const;

/**
 * The Java feature releases a Keycloak version supports, as its documentation lists them.
 * Versions outside the known 26.x lines are refused rather than guessed.
 */
export function supportedJavaMajors(keycloakVersion: string): number[] {
  const m = /^(\d+)\.(\d+)\.\d+$/.exec(keycloakVersion);
  if (!m) throw new Error(`'${keycloakVersion}' is not a Keycloak release version like 26.7.3`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major === 26 && minor >= 7) return [25, 17];
  if (major === 26 && minor >= 4) return [21, 17];
  if (major === 26) return [21, 17];
  throw new Error(
    `Keycloak ${keycloakVersion} is not a 26.x release; add its supported Java releases to supportedJavaMajors() in tools/keycloak/src/java.ts`,
  );
}

/** The feature release of a Java version string: `25.0.3` → 25, `17` → 17, `1.8.0_392` → 8. */
export function javaMajor(version: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/** Reads JAVA_VERSION="…" from the text of a JDK's `release` file. */
export function parseReleaseFile(text: string): string | undefined {
  return /^JAVA_VERSION="?([^"\n]+)"?\s*$/m.exec(text)?.[1];
}

/**
 * Picks the Java for a Keycloak version: the most preferred supported release that is installed
 * (25, then 21, then 17). Returns undefined when none fits.
 */
export function pickJava(installs: JavaInstall[], supported: number[]): JavaInstall | undefined {
  for (const major of JAVA_PREFERENCE) {
    if (!supported.includes(major)) continue;
    const found = installs.filter((j) => j.major === major).sort((a, b) => a.home.localeCompare(b.home))[0];
    if (found) return found;
  }
  return undefined;
}

/** The JDK at `home`, when it has bin/java and a readable `release` file. */
export function inspectJavaHome(home: string): JavaInstall | undefined {
  const release = path.join(home, 'release');
  if (!existsSync(path.join(home, 'bin', 'java')) || !existsSync(release)) return undefined;
  const version = parseReleaseFile(readFileSync(release, 'utf8'));
  const major = version === undefined ? undefined : javaMajor(version);
  if (version === undefined || major === undefined) return undefined;
  return { home: realpathSync(home), major, version };
}

/**
 * Every JDK/JRE under `roots` (default /usr/lib/jvm) plus $JAVA_HOME, de-duplicated by real
 * path (Debian links java-1.17.0-openjdk-amd64 → java-17-openjdk-amd64).
 */
export function findJavaInstalls(
  roots: string[] = ['/usr/lib/jvm'],
  env: NodeJS.ProcessEnv = process.env,
): JavaInstall[] {
  const homes: string[] = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const d of readdirSync(root)) homes.push(path.join(root, d));
  }
  if (env.JAVA_HOME) homes.push(env.JAVA_HOME);
  const byHome = new Map<string, JavaInstall>();
  for (const h of homes) {
    const j = inspectJavaHome(h);
    if (j) byHome.set(j.home, j);
  }
  return [...byHome.values()];
}

/**
 * The Java to run `keycloakVersion` with. VDI_KEYCLOAK_JAVA_HOME forces one (it must still be a
 * supported release); otherwise the preferred supported install is picked. Throws naming what
 * was found and what to install.
 */
export function selectJava(
  keycloakVersion: string,
  env: NodeJS.ProcessEnv = process.env,
  roots?: string[],
): JavaInstall {
  const supported = supportedJavaMajors(keycloakVersion);
  const forced = env.VDI_KEYCLOAK_JAVA_HOME;
  if (forced) {
    const j = inspectJavaHome(forced);
    if (!j) {
      throw new Error(
        `VDI_KEYCLOAK_JAVA_HOME=${forced} is not a JDK (no bin/java or release file); unset it to let the scripts pick one`,
      );
    }
    if (!supported.includes(j.major)) {
      throw new Error(
        `VDI_KEYCLOAK_JAVA_HOME=${forced} is Java ${j.version}, but Keycloak ${keycloakVersion} supports Java ${supported.join(' or ')}`,
      );
    }
    return j;
  }
  const installs = findJavaInstalls(roots, env);
  const picked = pickJava(installs, supported);
  if (!picked) {
    const seen = installs.length
      ? installs.map((j) => `Java ${j.version} (${j.home})`).join(', ')
      : 'no JDK under /usr/lib/jvm or $JAVA_HOME';
    throw new Error(
      `Keycloak ${keycloakVersion} needs Java ${supported.join(' or ')}; found ${seen}. ` +
        `Install one (e.g. apt-get install openjdk-${supported[supported.length - 1]}-jre-headless) or set VDI_KEYCLOAK_JAVA_HOME`,
    );
  }
  return picked;
}
