import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diagnosticSchema, signalSchema } from '@killtrace/schemas';
import type { Diagnostic, Signal } from '@killtrace/schemas';
import { describe, expect, it } from 'vitest';
import { CriLogParser } from './cri-log-parser.js';
import { parseRfc3339 } from './k8s-time.js';
import { parseKlogPairs } from './klog.js';
import { KubeletJournalParser } from './kubelet-journal-parser.js';
import { JsonStreamSplitter } from './json-stream-splitter.js';
import { parseKubernetesDocument } from './kubernetes-document.js';
import { parsePodLogPath } from './pod-log-path.js';
import { rng } from '../../../test/scenarios/format.js';

const ROOT = fileURLToPath(new URL('../../../test/fixtures/inputs/', import.meta.url));

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}


const NASTY = ['{', '}', '[', ']', '"', '\\', '\n', '\t', ' >', '=<', '\u0000', '\ufffd', 'P ', 'F ', ' stdout ', '2026-13-45T99:99:99Z', 'I1231 ', '":', 'null', '-1', '1e999', '\r\n'];

function mutate(text: string, random: () => number): string {
  let s = text;
  const ops = 1 + Math.floor(random() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(random() * (s.length + 1));
    switch (Math.floor(random() * 6)) {
      case 0: // flip a character
        s = s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ (1 << Math.floor(random() * 7))) + s.slice(at + 1);
        break;
      case 1: // truncate
        s = s.slice(0, at);
        break;
      case 2: // insert a nasty token
        s = s.slice(0, at) + NASTY[Math.floor(random() * NASTY.length)] + s.slice(at);
        break;
      case 3: {
        // shuffle lines
        const lines = s.split('\n');
        for (let i = lines.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
        }
        s = lines.join('\n');
        break;
      }
      case 4: // delete a span
        s = s.slice(0, at) + s.slice(at + Math.floor(random() * 200));
        break;
      default: // duplicate a span
        s = s.slice(0, at) + s.slice(at, at + Math.floor(random() * 300)) + s.slice(at);
    }
  }
  return s;
}

/** Replaces random leaves of a JSON value with values of the wrong type. */
function mutateJson(value: unknown, random: () => number, depth = 0): unknown {
  if (random() < 0.08) return [null, 0, -1, 'x', [], {}, true, '2026-13-01T00:00:00Z'][Math.floor(random() * 8)];
  if (Array.isArray(value)) return value.map((v) => mutateJson(v, random, depth + 1));
  if (value && typeof value === 'object' && depth < 12) {
    return Object.fromEntries(Object.entries(value).filter(() => random() > 0.05).map(([k, v]) => [k, mutateJson(v, random, depth + 1)]));
  }
  return value;
}

function check(signals: Signal[], diagnostics: Diagnostic[]): void {
  for (const s of signals) {
    const r = signalSchema.safeParse(s);
    if (!r.success) throw new Error(`invalid ${s.kind} signal: ${r.error.message}`);
  }
  for (const d of diagnostics) expect(diagnosticSchema.safeParse(d).success).toBe(true);
}

function runAllParsers(text: string, random: () => number): void {
  const signals: Signal[] = [];
  const diagnostics: Diagnostic[] = [];
  // JSON documents
  const splitter = new JsonStreamSplitter({ file: 'f', maxValueChars: 50_000 });
  const chunk = 1 + Math.floor(random() * 500);
  const values = [];
  for (let i = 0; i < text.length; i += chunk) {
    const out = splitter.push(text.slice(i, i + chunk));
    values.push(...out.values);
    diagnostics.push(...out.diagnostics);
  }
  diagnostics.push(...splitter.end().diagnostics);
  for (const v of values) {
    const doc = parseKubernetesDocument(v.value, { file: 'f', line: v.line, offset: v.offset });
    signals.push(...doc.signals);
    diagnostics.push(...doc.diagnostics);
    const doc2 = parseKubernetesDocument(mutateJson(v.value, random), { file: 'f' });
    signals.push(...doc2.signals);
    diagnostics.push(...doc2.diagnostics);
  }
  // journal and CRI
  const journal = new KubeletJournalParser({ referenceYear: 2026, referenceTime: random() < 0.5 ? Date.UTC(2027, 0, 1) : undefined, file: 'j' });
  const cri = new CriLogParser({ pod: { namespace: 'n', name: 'p', uid: 'u' }, container: 'c', restartCount: 0, file: 'l' }, { maxLineChars: 200 });
  text.split('\n').forEach((line, i) => {
    signals.push(...journal.push(line, i + 1));
    const s = cri.push(line, i + 1);
    if (s) signals.push(s);
    parsePodLogPath(line);
    parseRfc3339(line.slice(0, 35));
    parseKlogPairs(line, Math.floor(random() * line.length));
  });
  signals.push(...journal.end(), ...cri.end());
  diagnostics.push(...journal.takeDiagnostics(), ...journal.summary(), ...cri.takeDiagnostics(), ...cri.summary());
  check(signals, diagnostics);
}

describe('fuzz: seeded mutations of the fixture files', () => {
  const files = listFiles(ROOT).filter((f) => !f.endsWith('.gz'));
  const inputs = files.map((f) => readFileSync(f, 'utf8'));

  it('has fixtures to mutate', () => {
    expect(inputs.length).toBeGreaterThan(10);
  });

  it('no exception escapes and every output passes its schema (400 iterations)', () => {
    const random = rng(0x6b696c6c);
    for (let iteration = 0; iteration < 400; iteration++) {
      const index = Math.floor(random() * inputs.length);
      const mutated = mutate(inputs[index] as string, random);
      try {
        runAllParsers(mutated, random);
      } catch (error) {
        throw new Error(`iteration ${iteration} on ${files[index]}: ${error instanceof Error ? error.stack : String(error)}`);
      }
    }
  });
});
