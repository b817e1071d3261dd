// Debian's Chromium for the page tests, driven by playwright-core (never a downloaded browser):
// headless, no sandbox (CI runs as root), nothing fetched in the background.
import { execFileSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';

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

/**
 * Record every Content-Security-Policy violation the page reports (call before `goto`);
 * `violations(page)` reads them back. The page runs under its server's policy: none may fire.
 */
export async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { violations: string[] };
    w.violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.violations.push(`${e.violatedDirective}: ${e.blockedURI}`),
    );
  });
}

/** The violations `recordViolations` saw. */
export const violations = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { violations: string[] }).violations);

/** What ffprobe (Debian's) says of a recording's first video stream. */
export function probeVideo(file: string): { codec: string; frames: number; duration: number; width: number } {
  const json = JSON.parse(
    execFileSync('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,nb_read_frames,width:format=duration',
      '-of',
      'json',
      file,
    ]).toString(),
  ) as { streams: { codec_name: string; nb_read_frames: string; width: number }[]; format: { duration: string } };
  const v = json.streams[0]!;
  return {
    codec: v.codec_name,
    frames: Number(v.nb_read_frames),
    duration: Number(json.format.duration),
    width: v.width,
  };
}
