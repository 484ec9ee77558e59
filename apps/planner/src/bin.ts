#!/usr/bin/env node
import { main } from './cli.js';

// A reader that stops early (`planner plan --json | head`) is not an error of ours: stop
// quietly, as Unix tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
