#!/usr/bin/env node
import process from 'node:process';
import { main } from '../dist/main.js';

// `killtrace analyze B | head -1`: once the reader is gone, stop quietly (no stack trace), like any Unix filter.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error && error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
