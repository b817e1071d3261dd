// Regenerates schema/ and src/validators.generated.ts from the TypeBox catalogue: `npm run generate`.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDocuments } from '../src/documents.js';
import { generateValidators } from '../src/validators-source.js';

const dir = join(import.meta.dirname, '..', 'schema');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) rmSync(join(dir, f));
const files = generateDocuments();
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
console.log(`wrote ${Object.keys(files).length} files to ${dir}`);
writeFileSync(join(import.meta.dirname, '..', 'src', 'validators.generated.ts'), generateValidators());
console.log('wrote src/validators.generated.ts');
