// Flag parsers shared by tandem-server and tandem-client: each refuses a value that cannot work
// with one line naming what is wrong (commander prints `error: option '--port <port>' argument
// 'abc' is invalid. not a port (0–65535): abc` and exits 1), never a stack trace later.
import { createRequire } from 'node:module';
import { InvalidArgumentError } from 'commander';

/** `<binary> <semver>` for `--version` / `-V`, from the package that ships the binary. */
export function versionLine(binary: string): string {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  return `${binary} ${version}`;
}

export const num = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive number: ${v}`);
  return n;
};
export const int = (v: string): number => {
  const n = num(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`not a whole number: ${v}`);
  return n;
};
export const nonNegative = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`not zero or a positive number: ${v}`);
  return n;
};
/** A whole number of at least `min` (a smaller one cannot work, e.g. a frame limit no offer fits in). */
export const atLeast =
  (min: number, why: string) =>
  (v: string): number => {
    const n = int(v);
    if (n < min) throw new InvalidArgumentError(`${n} is too small: at least ${min} (${why})`);
    return n;
  };
/** A TCP port, 0 (pick a free one) to 65535. */
export const port = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`not a port (0–65535): ${v}`);
  return n;
};
/** A host name or address to listen on. */
export const host = (v: string): string => {
  if (v.trim() === '' || /[\s/]/.test(v)) throw new InvalidArgumentError(`not a host name or address: ${v}`);
  return v.trim();
};
/** A URL with one of `schemes` (e.g. `ws:`, `wss:`); `secret`: never echo it (it may hold a password). */
export const urlOf =
  (schemes: readonly string[], options: { secret?: boolean } = {}) =>
  (v: string): string => {
    const shown = options.secret ? '(not shown: it may hold a password)' : v;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new InvalidArgumentError(`not a URL: ${shown} (e.g. ${schemes[0]}//127.0.0.1:8787)`);
    }
    if (!schemes.includes(u.protocol)) throw new InvalidArgumentError(`not a ${schemes.join(' or ')} URL: ${shown}`);
    return v;
  };
/** A repeatable option; an environment variable may list several values separated by commas. */
export const list = (v: string, previous: string[] = []): string[] => [
  ...previous,
  ...v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
];

/** A size in bytes, with an optional unit: `1048576`, `64K`, `512M`, `2G` (powers of 1024). */
export const byteSize = (v: string): number => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?)?\s*$/i.exec(v);
  if (m === null) throw new InvalidArgumentError(`not a size: ${v} (e.g. 500M or 2G)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const bytes = Math.floor(Number(m[1]) * 1024 ** (unit === undefined ? 0 : 'kmgt'.indexOf(unit) + 1));
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`too large: ${v}`);
  return bytes;
};
