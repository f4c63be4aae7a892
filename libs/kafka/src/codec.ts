import type { z } from 'zod';

/** Why a message could not be used; `issues` are zod's, one `path: message` per line, when the JSON parsed. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: string; issues: string[] };

/** Formats zod issues as `path: message`, the form every adapter error and dead letter uses. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`);
}

/** Validates a payload and serializes what the schema outputs (defaults applied) as UTF-8 JSON. */
export function encodeMessage<S extends z.ZodType>(schema: S, value: unknown): { ok: true; bytes: Buffer } | { ok: false; issues: string[] } {
  const result = schema.safeParse(value);
  if (!result.success) return { ok: false, issues: formatIssues(result.error) };
  return { ok: true, bytes: Buffer.from(JSON.stringify(result.data), 'utf8') };
}

/** Parses UTF-8 JSON bytes and validates them against the schema. */
export function decodeMessage<S extends z.ZodType>(schema: S, bytes: Buffer | null): DecodeResult<z.output<S>> {
  if (bytes === null) return { ok: false, reason: 'message has no value (tombstone)', issues: [] };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `value is not JSON: ${(error as Error).message}`, issues: [] };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issues = formatIssues(result.error);
    return { ok: false, reason: `value does not match the schema: ${issues.join('; ')}`, issues };
  }
  return { ok: true, value: result.data };
}
