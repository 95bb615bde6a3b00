// The playground in a real browser: starts the built server on a fresh SQLite file, opens
// /graphql in headless Chromium, runs `{ users(limit: 3) { id name } }` through GraphiQL's own
// editor and run button, and checks the result pane against the database (read with the sqlite3
// CLI). Every request to a host other than the server's loopback address is aborted and recorded;
// one is enough to fail the test, so a CDN or web-font load cannot creep into the page.
//
//   cargo build && (cd tests/browser && npm ci && npm test)
//
// FRAISEQL_BIN overrides the server binary (default target/debug/fraiseql-blog) and CHROMIUM the
// browser (default /usr/bin/chromium).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverBin = process.env.FRAISEQL_BIN ?? path.join(repoRoot, 'target', 'debug', 'fraiseql-blog');
const chromiumBin = process.env.CHROMIUM ?? '/usr/bin/chromium';
const QUERY = '{ users(limit: 3) { id name } }';

// A new SQLite file is created, migrated and seeded by `serve`, which takes a while on 2 cores.
const SERVER_START_TIMEOUT_MS = 120_000;

/** A TCP port nobody listens on right now (the kernel picks it). */
function freePort() {
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
async function startServer(dbFile, port) {
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

async function stopServer(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** The first three users as GraphQL returns them (IDs are strings), read with plain SQL. */
function usersFromDatabase(dbFile) {
  const out = execFileSync('sqlite3', ['-json', dbFile, 'SELECT id, name FROM users ORDER BY id LIMIT 3'], {
    encoding: 'utf8',
  });
  return JSON.parse(out).map((row) => ({ id: String(row.id), name: row.name }));
}

function isLoopback(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.protocol === 'about:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

test('the playground runs a query against the server with no request leaving loopback', { timeout: 300_000 }, async (t) => {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'fraiseql-browser-'));
  // Cleanup runs last-started-first: the browser, then the server, then their files.
  const cleanups = [() => rm(workDir, { recursive: true, force: true })];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const dbFile = path.join(workDir, 'blog.db');
  const server = await startServer(dbFile, await freePort());
  cleanups.push(() => stopServer(server.child));

  // The server's side of content negotiation: a browser's Accept gets the page.
  const page0 = await fetch(`${server.base}/graphql`, { headers: { accept: 'text/html' } });
  assert.equal(page0.status, 200);
  assert.match(page0.headers.get('content-type') ?? '', /^text\/html/);

  const userDataDir = path.join(workDir, 'chromium-profile');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumBin,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanups.push(() => context.close());

  const offHost = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    offHost.push(url);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(/.*/, (ws) => {
    if (isLoopback(ws.url().replace(/^ws/, 'http'))) return ws.connectToServer();
    offHost.push(ws.url());
    return ws.close();
  });

  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));

  // A navigation sends Accept: text/html,…; the server must answer it with the playground.
  const response = await page.goto(`${server.base}/graphql`, { waitUntil: 'load' });
  assert.ok(response, 'navigation produced no response');
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'] ?? '', /^text\/html/);
  assert.match((await response.request().allHeaders()).accept ?? '', /text\/html/);

  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor({ state: 'visible', timeout: 30_000 });

  // Type the query the way a user would: focus the editor, replace everything, insert the text
  // (insertText, not key presses, so CodeMirror's bracket auto-closing does not double braces).
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(QUERY);
  const typed = await page.evaluate(
    () => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue(),
  );
  assert.equal(typed, QUERY);

  await page.locator('button.graphiql-execute-button').click();

  // The result pane is a read-only CodeMirror; wait until it holds a JSON document with data.
  await page.waitForFunction(
    () => {
      const pane = document.querySelector('.graphiql-response .CodeMirror');
      const text = pane ? pane.CodeMirror.getValue() : '';
      return text.includes('"data"') || text.includes('"errors"');
    },
    null,
    { timeout: 30_000 },
  );
  const resultText = await page.evaluate(
    () => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue(),
  );
  const result = JSON.parse(resultText);
  assert.equal(result.errors, undefined, `the query failed: ${resultText}`);
  const expected = usersFromDatabase(dbFile);
  assert.equal(expected.length, 3, 'the seeded database has at least three users');
  assert.deepEqual(result.data, { users: expected });

  // What the user sees, not only the editor's model: the names are rendered in the pane.
  const shown = await page.locator('.graphiql-response').innerText();
  for (const user of expected) assert.ok(shown.includes(user.name), `${user.name} is not shown in:\n${shown}`);

  assert.deepEqual(offHost, [], `the page tried to reach other hosts: ${offHost.join(', ')}`);
  assert.deepEqual(pageErrors, [], `the page threw: ${pageErrors.join('\n')}`);
});
