// Reports are kept, shared and linked to, so what they quote of a failing case's frames must not
// hand out what the frames held: client IDs (pairing keys), resume tokens and TURN credentials
// are replaced by placeholders, the same one for the same value across the whole report, so a
// reader can still follow one client through it.

/** JSON members whose string values are secrets, and what each is called in a placeholder. */
const SECRET_KEYS: Readonly<Record<string, string>> = {
  id: 'id',
  peer_id: 'id',
  target_id: 'id',
  resume_token: 'token',
  token: 'token',
  username: 'turn-username',
  credential: 'turn-credential',
};

/** Values shorter than this are left alone (too short to be a key, and would match everywhere). */
const MIN_SECRET_LENGTH = 8;

const member = /"(id|peer_id|target_id|resume_token|token|username|credential)":"((?:[^"\\]|\\.)*)"/g;

/** A redactor for one report: `learn` takes in a text's secrets, `apply` replaces every one learnt. */
export function reportRedactor(): { learn(text: string): void; apply(text: string): string } {
  const placeholders = new Map<string, string>();
  const counts = new Map<string, number>();
  return {
    learn(text) {
      for (const [, key, value] of text.matchAll(member)) {
        if (value === undefined || value.length < MIN_SECRET_LENGTH || placeholders.has(value)) continue;
        const kind = SECRET_KEYS[key!]!;
        const n = (counts.get(kind) ?? 0) + 1;
        counts.set(kind, n);
        placeholders.set(value, `<${kind}-${n}>`);
      }
    },
    apply(text) {
      let out = text;
      // longest first, so a token is replaced whole before any shorter secret inside it
      for (const [value, placeholder] of [...placeholders].sort((a, b) => b[0].length - a[0].length))
        out = out.split(value).join(placeholder);
      return out;
    },
  };
}

/** A redacted copy of results: frames, reasons and missed recommendations alike. */
export function redactResults<R extends { frames?: string[]; reason?: string; missed?: string[] }>(
  results: readonly R[],
): R[] {
  const r = reportRedactor();
  for (const x of results) for (const f of x.frames ?? []) r.learn(f);
  return results.map((x) => ({
    ...x,
    ...(x.frames ? { frames: x.frames.map(r.apply) } : {}),
    ...(x.reason !== undefined ? { reason: r.apply(x.reason) } : {}),
    ...(x.missed ? { missed: x.missed.map(r.apply) } : {}),
  }));
}
