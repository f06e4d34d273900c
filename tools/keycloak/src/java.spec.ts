import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  findJavaInstalls,
  javaMajor,
  parseReleaseFile,
  pickJava,
  selectJava,
  supportedJavaMajors,
  type JavaInstall,
} from './java.js';

const jdk = (major: number, home = `/usr/lib/jvm/jdk-${major}`): JavaInstall => ({
  home,
  major,
  version: `${major}.0.1`,
});

describe('javaMajor / parseReleaseFile', () => {
  it.each([
    ['25.0.3', 25],
    ['17.0.15', 17],
    ['21', 21],
    ['1.8.0_392', 8],
  ])('%s is Java %i', (v, major) => expect(javaMajor(v)).toBe(major));
  it('reads JAVA_VERSION from a release file', () => {
    expect(parseReleaseFile('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="25.0.3"\nOS_NAME="Linux"\n')).toBe(
      '25.0.3',
    );
    expect(parseReleaseFile('OS_NAME="Linux"\n')).toBeUndefined();
  });
});

describe('supportedJavaMajors', () => {
  it('knows the 26.x lines', () => {
    expect(supportedJavaMajors('26.7.3')).toEqual([25, 17]);
    expect(supportedJavaMajors('26.5.6')).toEqual([21, 17]);
    expect(supportedJavaMajors('26.4.0')).toEqual([21, 17]);
  });
  it('refuses versions it does not know instead of guessing', () => {
    expect(() => supportedJavaMajors('27.0.0')).toThrow(/supportedJavaMajors/);
    expect(() => supportedJavaMajors('latest')).toThrow(/release version/);
  });
});

describe('pickJava', () => {
  it('prefers 25 over 17 for Keycloak 26.7', () => {
    expect(pickJava([jdk(17), jdk(25)], [25, 17])?.major).toBe(25);
  });
  it('prefers 21 over 17 for Keycloak 26.5 and ignores an unsupported 25', () => {
    expect(pickJava([jdk(17), jdk(21), jdk(25)], [21, 17])?.major).toBe(21);
    expect(pickJava([jdk(17), jdk(25)], [21, 17])?.major).toBe(17);
  });
  it('never picks an unsupported release (21 for 26.7, 11)', () => {
    expect(pickJava([jdk(21), jdk(11)], [25, 17])).toBeUndefined();
    expect(pickJava([], [25, 17])).toBeUndefined();
  });
  it('is deterministic between two installs of one release', () => {
    const a = pickJava([jdk(17, '/b/jdk'), jdk(17, '/a/jdk')], [25, 17]);
    expect(a?.home).toBe('/a/jdk');
  });
});

describe('selectJava on a directory of JDKs', () => {
  let root: string;
  const fakeJdk = (name: string, version: string) => {
    const home = path.join(root, name);
    mkdirSync(path.join(home, 'bin'), { recursive: true });
    writeFileSync(path.join(home, 'bin', 'java'), '');
    writeFileSync(path.join(home, 'release'), `JAVA_VERSION="${version}"\n`);
    return home;
  };
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'jvm-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds installs, de-duplicates symlinks, skips directories that are not JDKs', () => {
    const home17 = fakeJdk('java-17-openjdk-amd64', '17.0.15');
    symlinkSync(home17, path.join(root, 'java-1.17.0-openjdk-amd64'));
    mkdirSync(path.join(root, 'openjdk-17'));
    fakeJdk('temurin-25-jdk-amd64', '25.0.3');
    const found = findJavaInstalls([root], {}).map((j) => `${path.basename(j.home)}:${j.major}`);
    expect(found.sort()).toEqual(['java-17-openjdk-amd64:17', 'temurin-25-jdk-amd64:25']);
    expect(selectJava('26.7.3', {}, [root]).version).toBe('25.0.3');
    expect(selectJava('26.5.6', {}, [root]).version).toBe('17.0.15');
  });

  it('fails naming what it found and what to install', () => {
    fakeJdk('jdk-11', '11.0.20');
    expect(() => selectJava('26.7.3', {}, [root])).toThrow(
      /needs Java 25 or 17; found Java 11\.0\.20.*openjdk-17/,
    );
  });

  it('honours VDI_KEYCLOAK_JAVA_HOME only for a supported release', () => {
    const home17 = fakeJdk('jdk-17', '17.0.15');
    fakeJdk('jdk-25', '25.0.3');
    const home21 = fakeJdk('jdk-21', '21.0.5');
    expect(selectJava('26.7.3', { VDI_KEYCLOAK_JAVA_HOME: home17 }, [root]).major).toBe(17);
    expect(() => selectJava('26.7.3', { VDI_KEYCLOAK_JAVA_HOME: home21 }, [root])).toThrow(
      /is Java 21\.0\.5, but Keycloak 26\.7\.3 supports Java 25 or 17/,
    );
    expect(() => selectJava('26.7.3', { VDI_KEYCLOAK_JAVA_HOME: path.join(root, 'nope') }, [root])).toThrow(
      /not a JDK/,
    );
  });
});
