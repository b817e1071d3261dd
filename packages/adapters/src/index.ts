// @tandem/adapters has no root entry point: import a binding by its subpath
// ('@tandem/adapters/ws', '/werift', '/browser') so each pulls only its own dependencies.
export {};
