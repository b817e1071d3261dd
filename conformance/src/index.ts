// Public surface of @tandem/conformance.
export { runSuite, cases, formatResult, summary, type CaseResult, type SuiteOptions } from './suite.js';
