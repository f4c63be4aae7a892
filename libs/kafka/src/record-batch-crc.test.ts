import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createProducer } from './index.js';
import { crc32c, KAFKAJS_CRC32C_MODULE, recordBatchCrc } from './record-batch-crc.js';

const require = createRequire(import.meta.url);
/** kafkajs' own byte-at-a-time implementation, the reference. */
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (bytes: Uint8Array) => number;

describe('record batch CRC-32C', () => {
  it('gives the CRC-32C check value of "123456789" (0xE3069283, RFC 3720 appendix B.4)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it("equals kafkajs' own implementation for every length and offset around the 8-byte steps", () => {
    const bytes = Buffer.alloc(4096);
    let x = 0x9e3779b9;
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    for (const offset of [0, 1, 3, 7]) {
      for (let length = 0; length <= 40; length++) expect(crc32c(bytes.subarray(offset, offset + length))).toBe(kafkajsCrc32c(bytes.subarray(offset, offset + length)));
      expect(crc32c(bytes.subarray(offset))).toBe(kafkajsCrc32c(bytes.subarray(offset)));
    }
  });

  it("is what kafkajs' record batch encoder uses once libs/kafka is loaded", () => {
    expect(typeof createProducer).toBe('function');
    expect(recordBatchCrc).toBe('installed');
    expect(require(KAFKAJS_CRC32C_MODULE)).toBe(crc32c);
  });
});
