/**
 * Debian's Chromium (/usr/bin/chromium, installed by tools/bootstrap) driven by playwright-core as
 * a library: no browser download (a test tool's own download cannot work on this machine).
 * Headless, with the flags the machine needs: as root no sandbox, no GPU, and no background
 * networking (its connections are refused here, many at a time). Playwright gives each launch a
 * new, empty profile directory.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.VDI_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // A stream in a background tab must still be decoded and painted (headless has no focus).
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--autoplay-policy=no-user-gesture-required',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: run \`npm run setup\` (tools/bootstrap installs Debian's chromium), or set VDI_CHROMIUM`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
}
