// Refused code requests and claims, in the words (and codes) the client hears.
import { ErrorText } from '@tandem/protocol';
import type { Connection } from '../connection.js';
import type { EngineContext, Turn } from '../engine-context.js';
import { rejectFrame } from '../to-clients.js';
import type { Refusal } from './nameplates.js';

const refusalWords: Record<Refusal | 'unavailable', [string, string]> = {
  unknown: [
    `${ErrorText.UnknownNameplate}: no such code is waiting (never made, expired, or its owner left)`,
    'nameplate_unknown',
  ],
  burnt: [`${ErrorText.NameplateBurnt}: someone already tried this code; ask for a new one`, 'nameplate_burnt'],
  claimed: [`${ErrorText.NameplateClaimed}: this code is being used right now`, 'nameplate_claimed'],
  rate_limited: [
    `${ErrorText.NameplateRateLimited}: too many codes from this address; wait a minute`,
    'nameplate_rate_limited',
  ],
  full: [
    `${ErrorText.NameplateRateLimited}: the server holds as many codes as it may; try again later`,
    'nameplate_full',
  ],
  unavailable: [
    `${ErrorText.NameplateRateLimited}: codes cannot be handed out or claimed now (the cluster's directory is unreachable); try again shortly`,
    'nameplate_unavailable',
  ],
};

export function refuse<H>(
  ctx: EngineContext<H>,
  turn: Turn<H>,
  conn: Connection<H>,
  refusal: Refusal | 'unavailable',
): void {
  const [text, code] = refusalWords[refusal];
  rejectFrame(ctx, turn, conn, text, code);
}
