// Writes the configuration reference generated from the schema into README.md between its markers.
// Usage: npm run docs:config  (a unit test fails when README.md is out of date)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference, replaceConfigReference } from '../src/index.js';

const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
const before = readFileSync(readme, 'utf8');
const after = replaceConfigReference(before, renderConfigReference());
if (after === before) {
  console.log(`${readme}: configuration reference already up to date`);
} else {
  writeFileSync(readme, after);
  console.log(`${readme}: configuration reference updated`);
}
