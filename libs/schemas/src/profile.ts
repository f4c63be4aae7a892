import { z } from 'zod';

/** A JavaScript regular expression given as a string; rejected at load time when it does not compile. */
const regexString = z.string().min(1).refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid JavaScript regular expression' },
);

export const profileStepSchema = z.object({
  name: z.string().min(1),
  start: regexString,
  /** Optional: otherwise the next step's start, or `ready`, ends it. */
  end: regexString.optional(),
});
export type ProfileStep = z.infer<typeof profileStepSchema>;

/** Step profile (README "Step profiles"): how one workload's init steps are recognised in its logs. */
export const stepProfileSchema = z.object({
  name: z.string().min(1),
  match: z
    .object({
      namespace: regexString.optional(),
      pod: regexString.optional(),
      container: regexString.optional(),
      image: regexString.optional(),
    })
    .strict()
    .default({}),
  ready: regexString.optional(),
  steps: z.array(profileStepSchema).default([]),
});
export type StepProfile = z.infer<typeof stepProfileSchema>;

export const profileFileSchema = z.object({
  profiles: z.array(stepProfileSchema),
});
export type ProfileFile = z.infer<typeof profileFileSchema>;
