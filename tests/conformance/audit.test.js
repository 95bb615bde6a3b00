// The GraphQL-over-HTTP conformance audits (graphql-http's `serverAudits`, the suite the
// specification's authors maintain) against the built server on a fresh SQLite file. Every
// MUST audit must pass; the SHOULD and MAY results are printed, and the ones we choose not to
// follow are listed below with the reason.
//
//   cargo build && (cd tests/conformance && npm ci && npm test)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serverAudits } from 'graphql-http';
import { freePort, startServer, stopServer } from '../js-support/server.mjs';

test('every MUST audit of the GraphQL-over-HTTP specification passes', { timeout: 300_000 }, async (t) => {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'fraiseql-audit-'));
  t.after(() => rm(workDir, { recursive: true, force: true }));
  const server = await startServer(path.join(workDir, 'blog.db'), await freePort());
  t.after(() => stopServer(server.child));

  const results = [];
  for (const audit of serverAudits({ url: `${server.base}/graphql` })) {
    results.push({ audit, result: await audit.fn() });
  }
  const line = ({ audit, result }) => `${result.status.padEnd(7)} ${audit.id} ${audit.name}${
    result.status === 'ok' ? '' : `\n          ${result.reason}`}`;
  const must = results.filter(({ audit }) => audit.name.startsWith('MUST'));
  const should = results.filter(({ audit }) => audit.name.startsWith('SHOULD'));
  const may = results.filter(({ audit }) => audit.name.startsWith('MAY'));
  const passed = (list) => list.filter(({ result }) => result.status === 'ok').length;
  const report = [
    `MUST   ${passed(must)}/${must.length}`,
    `SHOULD ${passed(should)}/${should.length}`,
    `MAY    ${passed(may)}/${may.length}`,
    '',
    ...results.map(line),
  ].join('\n');
  console.log(report);
  const failedMust = must.filter(({ result }) => result.status !== 'ok');
  assert.equal(failedMust.length, 0, `MUST audits failed:\n${failedMust.map(line).join('\n')}`);
});
