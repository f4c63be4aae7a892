import { describe, expect, it } from 'vitest';
import { readLines } from './line-reader.js';
import { sniffContent } from './sniff.js';

async function lines(chunks: Buffer[], maxLineChars?: number) {
  const out: string[] = [];
  async function* source() {
    for (const c of chunks) yield c;
  }
  const result = await readLines(source(), (line) => void out.push(line), { maxLineChars });
  return { out, result };
}

describe('readLines', () => {
  it('splits across chunk boundaries, including inside multi-byte characters', async () => {
    const text = Buffer.from('héllo wörld\nsecond ✓ line\r\nlast without newline');
    const chunks = [...text].map((b) => Buffer.from([b]));
    const { out, result } = await lines(chunks);
    expect(out).toEqual(['héllo wörld', 'second ✓ line\r', 'last without newline']);
    expect(result).toMatchObject({ lines: 3, invalidUtf8: false, bytes: text.length });
  });
  it('caps long lines with a marker, across chunks too', async () => {
    const { out, result } = await lines([Buffer.from('a'.repeat(50)), Buffer.from(`${'b'.repeat(50)}\nshort\n${'c'.repeat(30)}`)], 40);
    expect(out[0]).toBe(`${'a'.repeat(40)} [killtrace: truncated, 100 chars in all]`);
    expect(out[1]).toBe('short');
    expect(result.truncatedLines).toBe(1);
    const single = await lines([Buffer.from(`${'d'.repeat(100)}\n`)], 10);
    expect(single.out[0]?.startsWith('d'.repeat(10) + ' [killtrace')).toBe(true);
  });
  it('flags invalid UTF-8 once but not a genuine U+FFFD', async () => {
    expect((await lines([Buffer.from([0x61, 0xff, 0x0a])])).result.invalidUtf8).toBe(true);
    expect((await lines([Buffer.from('real \ufffd here\n')])).result.invalidUtf8).toBe(false);
  });
  it('stops at a NUL byte', async () => {
    const { out, result } = await lines([Buffer.from('ok\n'), Buffer.from([0x41, 0x00, 0x42])]);
    expect(out).toEqual(['ok']);
    expect(result.binaryAt).toBe(4);
  });
  it('reports a failing source as an error but rethrows consumer errors', async () => {
    async function* failing() {
      yield Buffer.from('one\n');
      throw new Error('disk on fire');
    }
    const got: string[] = [];
    const result = await readLines(failing(), (l) => void got.push(l));
    expect(got).toEqual(['one']);
    expect(result.error?.message).toBe('disk on fire');
    async function* fine() {
      yield Buffer.from('one\n');
    }
    await expect(
      readLines(fine(), () => {
        throw new Error('consumer bug');
      }),
    ).rejects.toThrow('consumer bug');
  });
});

describe('sniffContent', () => {
  const b = (s: string) => Buffer.from(s);
  it('recognises each format', () => {
    expect(sniffContent(b('{\n  "apiVersion": "v1",\n  "kind": "List"'))).toBe('kubernetes-json');
    expect(sniffContent(b('{"type":"ADDED","object":{"kind":"Event"}}\n'))).toBe('kubernetes-json');
    expect(sniffContent(b('{"MESSAGE":"I0101 ...","__REALTIME_TIMESTAMP":"1"}\n'))).toBe('kubelet-journal');
    expect(sniffContent(b('Oct 02 06:30:45.750000 worker-3 kubelet[2211]: I1002 x\n'))).toBe('kubelet-journal');
    expect(sniffContent(b('2026-10-02T06:30:45+0000 worker-3 kubelet[2211]: x\n'))).toBe('kubelet-journal');
    expect(sniffContent(b('I1002 06:30:45.750000    2211 prober.go:107] "Probe failed"\n'))).toBe('kubelet-journal');
    expect(sniffContent(b('2026-10-02T06:31:17.1Z stdout F hi\n'))).toBe('cri-log');
  });
  it('rejects the rest', () => {
    expect(sniffContent(b(''))).toBe('empty');
    expect(sniffContent(b('  \n'))).toBe('empty');
    expect(sniffContent(Buffer.from([1, 0, 2]))).toBe('binary');
    expect(sniffContent(b('# README\nhello\n'))).toBe('unknown');
    expect(sniffContent(b('{"name": "package", "version": "1"}'))).toBe('unknown');
  });
});
