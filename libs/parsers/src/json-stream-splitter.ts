import type { Diagnostic } from '@killtrace/schemas';
import { makeDiagnostic } from './diagnostic-codes.js';

/** One complete top-level JSON value and where it started. */
export interface JsonStreamValue {
  value: unknown;
  /** Character offset (UTF-16 units; the byte offset for ASCII input) of the value's first character. */
  offset: number;
  /** 1-based line of the value's first character. */
  line: number;
}

export interface JsonStreamOutput {
  values: JsonStreamValue[];
  diagnostics: Diagnostic[];
}

export interface JsonStreamSplitterOptions {
  /** File name put in diagnostics. */
  file?: string;
  /** Largest single value kept, in characters (default 256 Mi: a V8 string tops out near 512 Mi). */
  maxValueChars?: number;
}

const enum Mode {
  Between,
  Value,
  Skip,
}

const LF = 10;
const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === LF || c === 0xfeff;
}

/**
 * Incremental splitter for a stream of concatenated JSON values, pretty-printed or compact (what
 * `kubectl get ... -o json --watch` writes, or a single `List`). `push` returns the values completed by the chunk.
 *
 * Malformed input is reported (offset, line) and the splitter resynchronises at the next `{` in column 0. A `{` in
 * column 0 inside an unfinished value is taken as the start of a new value (the previous one was truncated): kubectl
 * indents everything nested, and compact values are one per line, so this never splits a well-formed stream. A raw
 * newline inside a string is likewise proof of damage. Strings with braces and escaped quotes are handled; a value
 * is held as the list of chunks it spans and joined once, so huge values cost linear time.
 */
export class JsonStreamSplitter {
  private readonly file: string | undefined;
  private readonly maxValueChars: number;
  private mode = Mode.Between;
  private base = 0;
  private line = 1;
  private atLineStart = true;
  private depth = 0;
  private inString = false;
  private escape = false;
  private valueStart = 0;
  private valueLine = 1;
  private parts: string[] = [];
  private partsLength = 0;

  constructor(options: JsonStreamSplitterOptions = {}) {
    this.file = options.file;
    this.maxValueChars = options.maxValueChars ?? 256 * 1024 * 1024;
  }

  /** Feeds the next chunk of text; returns the values it completed and any diagnostics. */
  push(chunk: string): JsonStreamOutput {
    const out: JsonStreamOutput = { values: [], diagnostics: [] };
    let chunkStart = 0;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (c === LF) {
        if (this.mode === Mode.Value && this.inString) {
          out.diagnostics.push(this.diagnostic('KT_INPUT_BAD_JSON', 'malformed JSON: line break inside a string; skipping to the next value', this.valueStart, this.valueLine));
          this.resetValue(Mode.Skip);
        }
        this.line++;
        this.atLineStart = true;
        continue;
      }
      const lineStart = this.atLineStart;
      this.atLineStart = false;
      if (this.mode === Mode.Value) {
        if (this.inString) {
          if (this.escape) this.escape = false;
          else if (c === BACKSLASH) this.escape = true;
          else if (c === QUOTE) this.inString = false;
          continue;
        }
        if (c === QUOTE) {
          this.inString = true;
        } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          if (lineStart && c === OPEN_BRACE) {
            out.diagnostics.push(this.diagnostic('KT_INPUT_TRUNCATED_JSON', 'truncated JSON value: a new value starts before it ends', this.valueStart, this.valueLine));
            this.resetValue(Mode.Between);
            this.startValue(i);
            chunkStart = i;
          } else {
            this.depth++;
          }
        } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
          this.depth--;
          if (this.depth === 0) {
            const text = this.parts.length > 0 ? this.parts.join('') + chunk.slice(chunkStart, i + 1) : chunk.slice(chunkStart, i + 1);
            this.finishValue(text, out);
          }
        }
        continue;
      }
      if (this.mode === Mode.Between) {
        if (isWhitespace(c)) continue;
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          this.startValue(i);
          chunkStart = i;
          continue;
        }
        out.diagnostics.push(this.diagnostic('KT_INPUT_BAD_JSON', `malformed JSON: unexpected ${JSON.stringify(chunk[i])} between values; skipping to the next value`, this.base + i, this.line));
        this.mode = Mode.Skip;
        continue;
      }
      // Mode.Skip: wait for `{` in column 0.
      if (lineStart && c === OPEN_BRACE) {
        this.startValue(i);
        chunkStart = i;
      }
    }
    if (this.mode === Mode.Value) {
      const rest = chunk.slice(chunkStart);
      this.parts.push(rest);
      this.partsLength += rest.length;
      if (this.partsLength > this.maxValueChars) {
        out.diagnostics.push(
          this.diagnostic('KT_INPUT_VALUE_TOO_LARGE', `JSON value larger than ${this.maxValueChars} characters; skipped`, this.valueStart, this.valueLine),
        );
        this.resetValue(Mode.Skip);
      }
    }
    this.base += n;
    return out;
  }

  /** Signals the end of input: reports a truncated trailing value. */
  end(): JsonStreamOutput {
    const out: JsonStreamOutput = { values: [], diagnostics: [] };
    if (this.mode === Mode.Value) {
      out.diagnostics.push(this.diagnostic('KT_INPUT_TRUNCATED_JSON', 'truncated JSON value at the end of the input', this.valueStart, this.valueLine));
    }
    this.resetValue(Mode.Between);
    return out;
  }

  private startValue(i: number): void {
    this.mode = Mode.Value;
    this.depth = 1;
    this.inString = false;
    this.escape = false;
    this.valueStart = this.base + i;
    this.valueLine = this.line;
    this.parts = [];
    this.partsLength = 0;
  }

  private resetValue(mode: Mode): void {
    this.mode = mode;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.parts = [];
    this.partsLength = 0;
  }

  private finishValue(text: string, out: JsonStreamOutput): void {
    const offset = this.valueStart;
    const line = this.valueLine;
    this.resetValue(Mode.Between);
    try {
      out.values.push({ value: JSON.parse(text) as unknown, offset, line });
    } catch (error) {
      const reason = error instanceof Error ? error.message.slice(0, 200) : 'parse error';
      out.diagnostics.push(this.diagnostic('KT_INPUT_BAD_JSON', `malformed JSON value: ${reason}`, offset, line));
    }
  }

  private diagnostic(code: 'KT_INPUT_BAD_JSON' | 'KT_INPUT_TRUNCATED_JSON' | 'KT_INPUT_VALUE_TOO_LARGE', message: string, offset: number, line: number): Diagnostic {
    return makeDiagnostic('warning', code, message, { file: this.file, offset, line });
  }
}
