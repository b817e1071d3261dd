import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { generateDocuments } from './documents.js';

const dir = new URL('../schema/', import.meta.url);

describe('generated documents', () => {
  it('committed files match the schemas (run `npm run generate` after changing a schema)', () => {
    const files = generateDocuments();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(readFileSync(new URL(name, dir), 'utf8'), name).toBe(text);
  });
  it('the AsyncAPI document is valid AsyncAPI 3', async () => {
    const parser = new Parser();
    const { document, diagnostics } = await parser.parse(readFileSync(new URL('asyncapi.json', dir), 'utf8'));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.messages().length).toBe(26);
    expect(document!.operations().length).toBe(2);
  });
});
