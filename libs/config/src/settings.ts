import { z } from 'zod';
import { configSchema, settingsRegistry, type SettingMeta } from './schema.js';

/** How an environment variable's text becomes a value of the setting's type. */
export type SettingKind = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'enum';

/** One leaf setting, found by walking the schema. */
export interface SettingInfo extends SettingMeta {
  /** Dotted path in the configuration file and in `Config`, e.g. `kafka.sasl.password`. */
  key: string;
  path: readonly string[];
  kind: SettingKind;
  /** Allowed values, for `enum` settings. */
  options?: readonly string[];
  /** The default, or undefined when the setting is optional or required. */
  defaultValue?: unknown;
  required: boolean;
}

function unwrap(schema: z.ZodType): { inner: z.ZodType; defaultValue?: unknown; optional: boolean } {
  let inner = schema;
  let defaultValue: unknown;
  let optional = false;
  for (;;) {
    if (inner instanceof z.ZodDefault) {
      defaultValue = inner.def.defaultValue;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodPrefault) {
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodOptional) {
      optional = true;
      inner = inner.unwrap() as z.ZodType;
    } else {
      return { inner, defaultValue, optional };
    }
  }
}

function kindOf(schema: z.ZodType): Pick<SettingInfo, 'kind' | 'options'> {
  if (schema instanceof z.ZodNumber) return { kind: schema.isInt ? 'integer' : 'number' };
  if (schema instanceof z.ZodBoolean) return { kind: 'boolean' };
  if (schema instanceof z.ZodArray) return { kind: 'list' };
  if (schema instanceof z.ZodEnum) return { kind: 'enum', options: schema.options.map(String) };
  return { kind: 'string' };
}

function walk(shape: Record<string, z.ZodType>, prefix: readonly string[], out: SettingInfo[]): void {
  for (const [name, field] of Object.entries(shape)) {
    const path = [...prefix, name];
    const meta = settingsRegistry.get(field);
    const { inner, defaultValue, optional } = unwrap(field);
    if (meta !== undefined) {
      out.push({ ...meta, key: path.join('.'), path, ...kindOf(inner), defaultValue, required: !optional && defaultValue === undefined });
    } else if (inner instanceof z.ZodObject) {
      walk(inner.shape as Record<string, z.ZodType>, path, out);
    } else {
      // A setting without metadata would be undocumented and unreachable from the environment.
      throw new Error(`config schema: ${path.join('.')} has no setting metadata`);
    }
  }
}

let cached: readonly SettingInfo[] | undefined;

/** Every leaf setting in schema order, with its environment variable, type, default and description. */
export function listSettings(): readonly SettingInfo[] {
  if (cached === undefined) {
    const out: SettingInfo[] = [];
    walk(configSchema.shape as Record<string, z.ZodType>, [], out);
    cached = out;
  }
  return cached;
}

/** Dotted paths of the settings that must never be logged. */
export function secretPaths(): string[] {
  return listSettings()
    .filter((s) => s.secret === true)
    .map((s) => s.key);
}
