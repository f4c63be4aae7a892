// Writes docs/record.md, the restart record's field reference generated from its zod schema.
// Usage: npm run docs:record  (a unit test fails when docs/record.md is out of date)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderRecordReference } from '../src/index.js';

const file = fileURLToPath(new URL('../../../docs/record.md', import.meta.url));
const next = renderRecordReference();
let before = '';
try {
  before = readFileSync(file, 'utf8');
} catch {
  // first run
}
if (before === next) console.log(`${file}: already up to date`);
else {
  writeFileSync(file, next);
  console.log(`${file}: written`);
}
