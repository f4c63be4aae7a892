#!/usr/bin/env node
import process from 'node:process';
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv);
// Kafka and HTTP sockets are closed by then; exit even if a library left a timer behind.
process.exit();
