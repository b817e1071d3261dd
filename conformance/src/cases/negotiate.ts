// v2 negotiation for the extension cases.
import { PROTOCOL_VERSION } from '@tandem/protocol';
import type { RecordingClient } from '../recording-client.js';
import { Skip, expectTrue } from '../verdicts.js';

/** Ask for `capability` in hello, or skip the case when `your_id` did not advertise it; returns the welcome. */
export async function negotiate(a: RecordingClient, capability: string): Promise<Record<string, unknown>> {
  const yourId = a.messages()[0] as { capabilities?: string[] };
  if (!yourId.capabilities?.includes(capability)) throw new Skip('not advertised');
  a.json({ type: 'hello', version: PROTOCOL_VERSION, capabilities: [capability] });
  const w = await a.next((m) => m['type'] === 'welcome', 'welcome');
  expectTrue((w['capabilities'] as string[]).includes(capability), `welcome grants ${capability}`);
  return w;
}
