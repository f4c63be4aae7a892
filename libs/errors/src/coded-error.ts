/**
 * Where an error happened, for the person who has to fix it: the file and line (or byte offset) of bad input, the
 * pod, the topic or index, the URL. Free-form beyond the named keys, but JSON-serialisable: it goes into logs.
 */
export interface ErrorContext {
  readonly file?: string;
  readonly line?: number;
  readonly offset?: number;
  readonly pod?: string;
  readonly [key: string]: unknown;
}

/** The error codes' grammar: `KT_ERR_<AREA>_<WHAT>`, upper case (STYLE.md, as fastify's `FST_ERR_<AREA>_<WHAT>`). */
export const ERROR_CODE_PATTERN = /^KT_ERR_[A-Z][A-Z0-9]*_[A-Z][A-Z0-9_]*$/;

/** What a coded error carries besides its code and message. */
export interface CodedErrorOptions {
  context?: ErrorContext;
  cause?: unknown;
  /** The process exit code when this error ends a process (services and the CLI); absent for library errors. */
  exitCode?: number;
}

/** A coded error as it appears in a JSON log line or an API answer: plain data, the cause flattened. */
export interface SerializedError {
  type: string;
  code: string;
  message: string;
  context: Record<string, unknown>;
  exitCode?: number;
  stack?: string;
  cause?: SerializedError | { type: string; message: string; code?: string };
}

/**
 * The one error class of Killtrace: every package's errors extend it and keep only their code catalogue and the
 * typed fields their callers read. `name` is the subclass's, so logs still say which package raised it.
 */
export class KilltraceError<Code extends string = string> extends Error {
  override readonly name: string = 'KilltraceError';
  readonly code: Code;
  readonly context: Readonly<ErrorContext>;
  readonly exitCode: number | undefined;

  constructor(code: Code, message: string, options: CodedErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.context = Object.freeze(withoutUndefined(options.context ?? {}));
    this.exitCode = options.exitCode;
  }

  /** Plain data for `JSON.stringify` and pino (the stack only through {@link serializeError}). */
  toJSON(): SerializedError {
    return serialize(this, false);
  }
}

/** `message` led by its code, the way the adapters' messages read (`KT_ERR_KAFKA_TLS_CA: ...`); never doubled. */
export function codedMessage(code: string, message: string): string {
  return message.startsWith(code) ? message : `${code}: ${message}`;
}

/** True for any Killtrace coded error, whichever package raised it. */
export function isKilltraceError(value: unknown): value is KilltraceError {
  return value instanceof KilltraceError;
}

/** The `KT_ERR_*` code of any thrown value that carries one (also errors of older builds), else undefined. */
export function errorCodeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('code' in value)) return undefined;
  const code = (value as { code: unknown }).code;
  return typeof code === 'string' && ERROR_CODE_PATTERN.test(code) ? code : undefined;
}

/**
 * pino's `err` serializer for Killtrace: a coded error's code, context and exit code as fields of the log line (not
 * lost in the message), with the stack; any other value the way pino's standard serializer would show it.
 */
export function serializeError(value: unknown): unknown {
  if (value instanceof KilltraceError) return serialize(value, true);
  if (value instanceof Error) {
    const raw: unknown = (value as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : undefined;
    return {
      type: value.name,
      message: value.message,
      ...(code === undefined ? {} : { code }),
      ...(value.stack === undefined ? {} : { stack: value.stack }),
      ...(value.cause === undefined ? {} : { cause: serializeCause(value.cause, true) }),
    };
  }
  return value;
}

function serialize(error: KilltraceError, withStack: boolean): SerializedError {
  return {
    type: error.name,
    code: error.code,
    message: error.message,
    context: { ...error.context },
    ...(error.exitCode === undefined ? {} : { exitCode: error.exitCode }),
    ...(withStack && error.stack !== undefined ? { stack: error.stack } : {}),
    ...(error.cause === undefined ? {} : { cause: serializeCause(error.cause, withStack) }),
  };
}

function serializeCause(cause: unknown, withStack: boolean): NonNullable<SerializedError['cause']> {
  if (cause instanceof KilltraceError) return serialize(cause, withStack);
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return { type: cause.name, message: cause.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { type: typeof cause, message: String(cause) };
}

function withoutUndefined(context: ErrorContext): ErrorContext {
  return Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
}
