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
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { freePort, startServer, stopServer } from '../js-support/server.mjs';

const chromiumBin = process.env.CHROMIUM ?? '/usr/bin/chromium';
const QUERY = '{ users(limit: 3) { id name } }';

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
