// The directory of live connections by ID, behind an interface so a shared implementation
// (Redis, NATS) can replace the in-memory map without touching the machines, which never see it.

/** Connections by client ID. Implementations must be synchronous for local records. */
export interface ConnectionDirectory<C> {
  get(id: string): C | undefined;
  set(id: string, conn: C): void;
  delete(id: string): void;
  values(): Iterable<C>;
  readonly size: number;
}

/** The default directory: a Map, for one process. */
export class InMemoryDirectory<C> implements ConnectionDirectory<C> {
  private readonly map = new Map<string, C>();
  get(id: string): C | undefined {
    return this.map.get(id);
  }
  set(id: string, conn: C): void {
    this.map.set(id, conn);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  values(): Iterable<C> {
    return this.map.values();
  }
  get size(): number {
    return this.map.size;
  }
}
