import { z } from 'zod';

const finite = z.number().finite();

/**
 * One incarnation's step tracker as plain data (libs/correlation/src/step-tracker.ts `toState`), validated wherever it
 * crosses a boundary: a partition snapshot read back from Kafka (services/correlator/src/snapshot-schema.ts) and an
 * analysis worker's result handed to the main thread (services/cli/src/worker-messages.ts).
 */
export const stepTrackerStateSchema = z.object({
  /** Learning on (sightings kept). */
  learn: z.boolean(),
  marks: z.array(z.object({ firstStart: finite.optional(), ends: z.array(finite) })),
  readyAt: finite.optional(),
  firstLineAt: finite.optional(),
  lineCount: z.int().min(0),
  recent: z.array(z.object({ at: finite, text: z.string() })),
  /** [mask hash, sighting] pairs in insertion order. */
  seen: z.array(z.tuple([z.number().int(), z.object({ key: z.string(), first: finite, last: finite, example: z.string() })])),
  latestFirst: finite.optional(),
});
