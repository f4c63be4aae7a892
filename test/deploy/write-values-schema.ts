import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR } from './render.js';
import { valuesSchemaText } from './values-schema.js';

// `npm run deploy:schema`: regenerates the chart's values.schema.json (test/unit/deploy-manifests.test.ts checks it).
const file = join(CHART_DIR, 'values.schema.json');
writeFileSync(file, valuesSchemaText());
console.log(`wrote ${file}`);
