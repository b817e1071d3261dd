// Debian's Chromium for the page tests, driven by playwright-core (never a downloaded browser):
// headless, no sandbox (CI runs as root), nothing fetched in the background.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env['TANDEM_CHROMIUM'] ?? '/usr/bin/chromium';

/** Launch Chromium with the flags every page test uses, plus `extra`. */
export function launchChromium(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      ...extra,
    ],
  });
}
