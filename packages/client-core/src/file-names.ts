// Names a peer offers, made safe to write: one plain file name, and its numbered variants.

/** Reduce a name from a peer to a plain file name: no path parts, `..`, device names, hidden-file tricks or control characters. */
export function safeFileName(raw: string): string {
  let name = raw.split(/[/\\]/).pop() ?? '';
  name = name
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, '') // control, zero-width, bidi overrides
    .replace(/[<>:"|?*]/g, '_')
    .trim()
    .replace(/^[.\s]+/, '') // no hidden files, no `..`
    .replace(/[.\s]+$/, ''); // Windows drops trailing dots and spaces
  const stem = name.split('.')[0]!.toUpperCase();
  if (/^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])$/.test(stem)) name = `_${name}`;
  // at most 200 UTF-8 bytes, leaving room for " (12)" and ".part"
  const enc = new TextEncoder();
  while (enc.encode(name).byteLength > 200) name = Array.from(name).slice(0, -1).join('');
  return name === '' ? 'file' : name;
}

/** The n-th free variant of a name: `name.ext`, `name (1).ext`, `name (2).ext`, … */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
