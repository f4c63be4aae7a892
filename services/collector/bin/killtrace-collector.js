#!/usr/bin/env node
import process from 'node:process';
import { ensureHeapForMode, main } from '../dist/main.js';

// In node-agent mode this may replace the process with one started with the agent's V8 heap flags (same pid).
const heap = ensureHeapForMode(process.argv, process.env);
process.exitCode = await main(process.argv, process.env, heap);
// Kafka and HTTP sockets are closed by then; exit even if a library left a timer behind.
process.exit();
