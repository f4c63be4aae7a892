import { createRequire } from 'node:module';

/**
 * CRC-32C (Castagnoli) for kafkajs' record batches, eight bytes per step ("slicing by 8") instead of kafkajs' one
 * byte per step (node_modules/kafkajs/src/protocol/recordBatch/crc32C/crc32C.js): the producer checksums every byte it
 * sends, and in the node agent's CPU profile that loop was 7-10 % of the process. Same polynomial, same results
 * (record-batch-crc.test.ts compares them, and the broker rejects a batch whose CRC is wrong).
 */

const POLY = 0x82f63b78;
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n] as number;
  for (let k = 1; k < 8; k++) {
    c = (T[c & 0xff] as number) ^ (c >>> 8);
    T[k * 256 + n] = c;
  }
}

/** CRC-32C of `bytes`, as an unsigned 32-bit integer (what kafkajs' own function returns). */
export function crc32c(bytes: Uint8Array): number {
  let crc = -1;
  let i = 0;
  const n = bytes.length;
  for (const end = n - 7; i < end; i += 8) {
    const a = crc ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24));
    crc =
      (T[1792 + (a & 0xff)] as number) ^
      (T[1536 + ((a >>> 8) & 0xff)] as number) ^
      (T[1280 + ((a >>> 16) & 0xff)] as number) ^
      (T[1024 + (a >>> 24)] as number) ^
      (T[768 + (bytes[i + 4] as number)] as number) ^
      (T[512 + (bytes[i + 5] as number)] as number) ^
      (T[256 + (bytes[i + 6] as number)] as number) ^
      (T[bytes[i + 7] as number] as number);
  }
  for (; i < n; i++) crc = (T[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const require = createRequire(import.meta.url);
/** kafkajs' CRC-32C module, which its record batch encoder (protocol/recordBatch/v0/index.js) requires once. */
export const KAFKAJS_CRC32C_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
const ENCODER_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/v0/index.js');

/**
 * Puts `crc32c` in place of kafkajs' function in the module cache, before kafkajs' record batch encoder first loads
 * (it keeps the function it got): this module is the first import of every libs/kafka module that loads kafkajs.
 * Returns whether the encoder uses it ('late' when the encoder had loaded first, and keeps kafkajs' own).
 */
function install(): 'installed' | 'late' {
  if (require.cache[ENCODER_MODULE] !== undefined && require.cache[KAFKAJS_CRC32C_MODULE]?.exports !== crc32c) return 'late';
  require(KAFKAJS_CRC32C_MODULE);
  const cached = require.cache[KAFKAJS_CRC32C_MODULE];
  if (cached === undefined) return 'late';
  cached.exports = crc32c;
  return 'installed';
}

/** Whether kafkajs' record batches are checksummed with `crc32c` (see install). */
export const recordBatchCrc: 'installed' | 'late' = install();
