// DTLS fingerprints as the safety code and the code pairing hash them (in the initial load: the
// browser peer reports its fingerprints with these; the exchanges load as chunks of their own).

/** One fingerprint in the form the code hashes: `sha-256 AB:CD:…`. */
export function normalizeFingerprint(fp: string): string {
  const [algorithm = '', value = ''] = fp.trim().split(/\s+/, 2);
  return `${algorithm.toLowerCase()} ${value.toUpperCase()}`;
}

/** Every `a=fingerprint:` of an SDP, normalized, without duplicates. */
export function fingerprintsOf(sdp: string): string[] {
  const out = new Set<string>();
  for (const m of sdp.matchAll(/^a=fingerprint:(\S+ \S+)\s*$/gm)) out.add(normalizeFingerprint(m[1]!));
  return [...out];
}
