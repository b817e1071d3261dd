// The suite's results in words: a line per case, and the closing summary.
import type { CaseResult, Verdict } from './verdicts.js';

/** One line per case plus the closing line. */
export function formatResult(r: CaseResult): string {
  const head = `${r.status.toUpperCase().padEnd(13)} ${r.level.padEnd(6)} ${r.name} (${r.ms} ms)`;
  if (r.status === 'pass') return head;
  if (r.status === 'skip') return `${head} — skipped: ${r.reason}`;
  if (r.status === 'non-strict') return `${head} — ${(r.missed ?? [r.reason]).join('; ')}`;
  return `${head} — ${r.reason}\n${(r.frames ?? []).map((f) => `       ${f}`).join('\n')}`;
}

/** `N passed, M failed, K skipped`, then a line counting non-strict and informational verdicts. */
export function summary(results: CaseResult[]): string {
  const n = (s: Verdict) => results.filter((r) => r.status === s).length;
  return `${n('pass')} passed, ${n('fail')} failed, ${n('skip')} skipped\n${n('non-strict')} non-strict, ${n('informational')} informational`;
}
