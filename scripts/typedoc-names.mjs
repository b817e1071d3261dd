// TypeDoc names a module by its file's path (packages_protocol_src_wire); the reference names each
// by the import people write (@tandem/protocol/wire), read from the package.json `exports`.
import { readFileSync } from 'node:fs';
import { Converter, ReflectionKind } from 'typedoc';
import { packages } from '../typedoc.config.mjs';

/** @param {import('typedoc').Application} app */
export function load(app) {
  const names = new Map();
  for (const dir of packages) {
    const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
    for (const [subpath, v] of Object.entries(pkg.exports)) {
      const src = typeof v === 'object' ? v['@tandem/source'] : undefined;
      if (typeof src !== 'string') continue;
      // TypeDoc's own name: the path from the common root, without .ts and a trailing /index
      const path = `${dir}/${src
        .replace(/^\.\//, '')
        .replace(/\.ts$/, '')
        .replace(/\/index$/, '')}`;
      names.set(path, subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
    }
  }
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = names.get(module.name);
      if (name !== undefined) module.name = name;
    }
  });
}
