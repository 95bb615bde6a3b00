// The built server for the JavaScript test suites (tests/browser, tests/conformance): started
// on a fresh SQLite file and a free loopback port, stopped with SIGTERM.
//
// FRAISEQL_BIN overrides the server binary (default target/debug/fraiseql-blog).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverBin = process.env.FRAISEQL_BIN ?? path.join(repoRoot, 'target', 'debug', 'fraiseql-blog');

// A new SQLite file is created, migrated and seeded by `serve`, which takes a while on 2 cores.
const SERVER_START_TIMEOUT_MS = 120_000;

/** A TCP port nobody listens on right now (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `fraiseql-blog serve`; resolves once /graphql answers, with the process and its log. */
export async function startServer(dbFile, port) {
  assert.ok(existsSync(serverBin), `${serverBin} is missing: run \`cargo build\` first`);
  const child = spawn(serverBin, ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dbFile}`,
      FRAISEQL_BIND: `127.0.0.1:${port}`,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => { log += chunk; });
  child.stderr.on('data', (chunk) => { log += chunk; });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`the server exited early (${JSON.stringify(exited)}):\n${log}`);
    }
    try {
      const response = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      if (response.ok) return { child, base, log: () => log };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not answer within ${SERVER_START_TIMEOUT_MS} ms:\n${log}`);
}

export async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
