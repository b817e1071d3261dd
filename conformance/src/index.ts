// The conformance suite lands with its own issue; this package is a skeleton until then.
export {};
