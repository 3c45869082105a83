import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's chromium for the browser suites, driven by playwright-core (no browser is ever
 * downloaded). Without chromium a suite skips with one line; TRICENTER_REQUIRE_BROWSER=1 (CI)
 * makes that a failure.
 */
const CHROMIUM = process.env.TRICENTER_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
const required = process.env.TRICENTER_REQUIRE_BROWSER === '1';
if (!available && !required)
  console.warn(`browser suite skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set TRICENTER_CHROMIUM)`);

/** For `describe.skipIf`: no chromium and none required. */
export const skipBrowser = !available && !required;

/** A headless chromium; throws when it is required and missing. */
export async function launchChromium(): Promise<Browser> {
  if (!available) throw new Error(`TRICENTER_REQUIRE_BROWSER=1 but there is no chromium at ${CHROMIUM}`);
  // playwright gives every launch a fresh, temporary --user-data-dir of its own (and refuses one in args).
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
