// The first error of a frame that failed its generated check, in TypeBox's words (the path and
// message `Errors(schema, value).First()` gives), from a compact table of each message's schema
// written at build time (validators.generated.ts). TypeBox's own `Errors` would pull its whole
// interpreter, registries and builders into every client bundle; this walks only the kinds the
// protocol uses and a test holds it to TypeBox's answer on random and garbage values. It runs only
// for a frame that is already known to be invalid: never on the hot path.

/** One schema node, as the generator writes it (see validators-source.ts). */
export type ExplainNode =
  | { readonly k: 'string'; readonly min?: number; readonly max?: number; readonly re?: string }
  | { readonly k: 'integer' | 'number'; readonly min?: number; readonly max?: number }
  | { readonly k: 'boolean' | 'null' }
  | { readonly k: 'literal'; readonly c: string | number | boolean }
  | { readonly k: 'union'; readonly of: readonly ExplainNode[] }
  | { readonly k: 'array'; readonly min?: number; readonly max?: number; readonly items: ExplainNode }
  | {
      readonly k: 'object';
      readonly props: Readonly<Record<string, ExplainNode>>;
      readonly req: readonly string[];
    };

/** The first error of `v` against `node` at JSON pointer `p`: `[path, message]`, or undefined when it matches. */
export function explain(node: ExplainNode, v: unknown, p = ''): readonly [string, string] | undefined {
  switch (node.k) {
    case 'string':
      if (typeof v !== 'string') return [p, 'Expected string'];
      if (node.min !== undefined && !(v.length >= node.min))
        return [p, `Expected string length greater or equal to ${node.min}`];
      if (node.max !== undefined && !(v.length <= node.max))
        return [p, `Expected string length less or equal to ${node.max}`];
      if (node.re !== undefined && !new RegExp(node.re).test(v)) return [p, `Expected string to match '${node.re}'`];
      return undefined;
    case 'integer':
    case 'number':
      if (!(node.k === 'integer' ? Number.isInteger(v) : Number.isFinite(v))) return [p, `Expected ${node.k}`];
      if (node.max !== undefined && !((v as number) <= node.max))
        return [p, `Expected ${node.k} to be less or equal to ${node.max}`];
      if (node.min !== undefined && !((v as number) >= node.min))
        return [p, `Expected ${node.k} to be greater or equal to ${node.min}`];
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : [p, 'Expected boolean'];
    case 'null':
      return v === null ? undefined : [p, 'Expected null'];
    case 'literal':
      return v === node.c ? undefined : [p, `Expected ${typeof node.c === 'string' ? `'${node.c}'` : String(node.c)}`];
    case 'union':
      return node.of.some((variant) => explain(variant, v, p) === undefined) ? undefined : [p, 'Expected union value'];
    case 'array': {
      if (!Array.isArray(v)) return [p, 'Expected array'];
      if (node.min !== undefined && !(v.length >= node.min))
        return [p, `Expected array length to be greater or equal to ${node.min}`];
      if (node.max !== undefined && !(v.length <= node.max))
        return [p, `Expected array length to be less or equal to ${node.max}`];
      for (let i = 0; i < v.length; i++) {
        const e = explain(node.items, v[i], `${p}/${i}`);
        if (e) return e;
      }
      return undefined;
    }
    case 'object': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return [p, 'Expected object'];
      const o = v as Record<string, unknown>;
      for (const key of node.req)
        if (!Object.prototype.hasOwnProperty.call(o, key))
          return [`${p}/${escapeKey(key)}`, 'Expected required property'];
      for (const [key, property] of Object.entries(node.props)) {
        // an optional property is checked when present (not undefined), as TypeBox's default policy
        if (!node.req.includes(key) && o[key] === undefined) continue;
        const e = explain(property, o[key], `${p}/${escapeKey(key)}`);
        if (e) return e;
      }
      return undefined;
    }
  }
}

/** JSON-pointer escaping of one key, as TypeBox's errors do. */
const escapeKey = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
