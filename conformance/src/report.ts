// Reports of a conformance run that people keep and link to: a JSON document and one
// self-contained HTML page (a table per stage, levels and coloured verdicts, the frames seen for
// every case that did not pass, server info and timing). No scripts, no external assets. Both
// redact the frames they quote: no client ID, resume token or TURN credential (redact.ts).
import type { CaseResult, Verdict } from './suite.js';
import { summary } from './suite.js';
import { redactResults } from './redact.js';

/** What the report says about the run besides the results. */
export interface RunInfo {
  /** The server URL (or "(in process)"). */
  url: string;
  startedAt: string;
  durationMs: number;
  /** The server's `your_id` as first seen (its version and advertised capabilities). */
  server?: { version?: number; capabilities?: string[] };
  /** The timings the run assumed and the slack it allowed on timing bounds (ms). */
  timing?: {
    pingIntervalMs: number;
    pingTimeoutMs: number;
    toleranceMs: number;
    earlyToleranceMs: number;
    answerTimeoutMs: number;
  };
}

/** The JSON report. */
export function jsonReport(results: CaseResult[], info: RunInfo): string {
  const [counts, extra] = summary(results).split('\n');
  return JSON.stringify({ ...info, summary: counts, summaryExtra: extra, results: redactResults(results) }, null, 2);
}

const colours: Record<Verdict, string> = {
  pass: '#2f8f4e',
  'non-strict': '#b7791f',
  fail: '#c53030',
  informational: '#3d6fb4',
  skip: '#718096',
};

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The HTML report: one page, no external resources. */
export function htmlReport(allResults: CaseResult[], info: RunInfo): string {
  const results = redactResults(allResults);
  const stages = new Map<string, CaseResult[]>();
  for (const r of results) {
    const stage = r.name.split('.')[0]!;
    stages.set(stage, [...(stages.get(stage) ?? []), r]);
  }
  const [counts, extra] = summary(results).split('\n');
  const row = (r: CaseResult) => {
    const detail = r.status === 'pass' ? '' : esc((r.missed ?? [r.reason ?? '']).join('; '));
    const frames =
      r.frames && r.status !== 'pass' && r.status !== 'skip'
        ? `<details><summary>${r.frames.length} frames seen</summary><pre class="frames">${esc(r.frames.join('\n'))}</pre></details>`
        : '';
    return (
      `<tr class="case" data-verdict="${r.status}"><td class="name">${esc(r.name)}</td><td class="level">${r.level}</td>` +
      `<td class="verdict" style="background:${colours[r.status]}">${r.status}</td><td class="ms">${r.ms} ms</td><td class="detail">${detail}${frames}</td></tr>`
    );
  };
  const tables = [...stages]
    .map(
      ([stage, rs]) =>
        `<h2>${esc(stage)}</h2><table><thead><tr><th>case</th><th>level</th><th>verdict</th><th>time</th><th>detail</th></tr></thead><tbody>${rs.map(row).join('')}</tbody></table>`,
    )
    .join('\n');
  const server = info.server
    ? `version ${info.server.version ?? 1}; capabilities: ${esc((info.server.capabilities ?? []).join(', ') || 'none')}`
    : 'unknown';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tandem conformance: ${esc(info.url)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1a202c}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
th,td{border:1px solid #cbd5e0;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.verdict{color:#fff;font-weight:600;white-space:nowrap}
pre.frames{background:#f7fafc;padding:.5rem;overflow:auto;max-height:20rem;font-size:12px}
.summary{font-size:1.1rem}
</style></head><body>
<h1>tandem conformance report</h1>
<p>Server <code>${esc(info.url)}</code> (${server}); started ${esc(info.startedAt)}, ${(info.durationMs / 1000).toFixed(1)} s.</p>
${info.timing ? `<p>Timing assumed: ping interval ${info.timing.pingIntervalMs} ms, ping timeout ${info.timing.pingTimeoutMs} ms; timing bounds allow ${info.timing.toleranceMs} ms late and ${info.timing.earlyToleranceMs} ms early; answers are awaited ${info.timing.answerTimeoutMs} ms.</p>` : ''}
<p class="summary"><strong>${esc(counts ?? '')}</strong>; ${esc(extra ?? '')}</p>
<p>Levels: MUST (wire v1 or the capability's spec requires it; a miss fails), SHOULD (tandem's recommendation; a miss is non-strict), MAY (informational).</p>
${tables}
</body></html>
`;
}
