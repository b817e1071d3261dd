// The conformance suite: raw WebSocket clients check any server URL against wire v1 (and
// tandem's advertised extensions). No WebRTC needed. Each case names what it proves. This file
// gathers the parts: the dialer, the recording client, verdicts, the runner, the words, and the
// cases (a file per stage under cases/).
export { wsDialer, type Dialer, type SocketHandlers, type SuiteSocket } from './dialer.js';
export { runSuite, suiteDefaults, type SuiteOptions } from './runner.js';
export { cases } from './cases/index.js';
export { formatResult, summary } from './format.js';
export type { CaseResult, Level, Verdict } from './verdicts.js';
