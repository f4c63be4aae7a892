import { z } from 'zod';

/** Something in the input that could not be used, with enough context to find it. */
export const diagnosticSchema = z.object({
  severity: z.enum(['error', 'warning', 'info']),
  /** Stable machine-readable code, e.g. `KT_INPUT_BAD_JSON`. */
  code: z.string(),
  message: z.string(),
  file: z.string().optional(),
  line: z.number().int().nonnegative().optional(),
  /** Byte offset in the file, when lines do not apply (binary data, JSON streams). */
  offset: z.number().int().nonnegative().optional(),
});
export type Diagnostic = z.infer<typeof diagnosticSchema>;
