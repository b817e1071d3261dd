// Public surface of @tandem/conformance. The in-process engine target is at `@tandem/conformance/memory`.
export {
  runSuite,
  suiteDefaults,
  cases,
  formatResult,
  summary,
  wsDialer,
  type CaseResult,
  type Level,
  type Verdict,
  type SuiteOptions,
  type Dialer,
  type SuiteSocket,
  type SocketHandlers,
} from './suite.js';
export { htmlReport, jsonReport, type RunInfo } from './report.js';
