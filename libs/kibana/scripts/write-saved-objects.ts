/**
 * Writes deploy/kibana/killtrace.ndjson from the TypeScript source of truth (libs/kibana/src); a unit test
 * (libs/kibana/src/saved-objects.test.ts) fails when the committed file is not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { killtraceSavedObjects, toNdjson } from '../src/index.js';

const target = fileURLToPath(new URL('../../../deploy/kibana/killtrace.ndjson', import.meta.url));
const objects = killtraceSavedObjects();
writeFileSync(target, toNdjson(objects));
console.log(`wrote ${objects.length} saved objects to ${target}`);
