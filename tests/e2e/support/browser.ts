/**
 * Debian's chromium driven by playwright-core, for the dashboard's end-to-end
 * tests and its benchmark. Tests skip with a clear message when it is missing
 * (CI installs `chromium fonts-noto-cjk`).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SQM_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);
export const NO_CHROMIUM_MESSAGE = `[sqm e2e] ${CHROMIUM_PATH} is missing: the dashboard's browser tests are SKIPPED (apt-get install chromium fonts-noto-cjk)`;

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
