// The directory's Lua scripts, one file each under lua/, with the shared routines of lib.lua
// (releasing a partner, forgetting a client, telling a node) prepended to every one of them.
// Every script gets the key prefix as ARGV[1]; the keys it touches depend on the records it
// reads (partners), so they are built inside, which a single Redis (not Redis Cluster) allows.
import { readFileSync } from 'node:fs';

/** The scripts, by command name (`tandem_<name>` on the ioredis client). */
export const scriptNames = [
  'register',
  'release',
  'pair',
  'session',
  'adopt',
  'renew',
  'reap',
  'rejoin',
  'leave',
  'nameplate',
] as const;
export type ScriptName = (typeof scriptNames)[number];

const read = (file: string) => readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');

/** Each script's full text: the shared routines, then the script. */
export function loadScripts(): Record<ScriptName, string> {
  const lib = read('lib.lua');
  return Object.fromEntries(scriptNames.map((name) => [name, `${lib}\n${read(`${name}.lua`)}`])) as Record<
    ScriptName,
    string
  >;
}
