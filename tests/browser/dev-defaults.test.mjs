// Browser test: `make dev` with no configuration at all, seen from a real
// headless Chromium with its default cookie settings.
//
//   SPA http://localhost:5173  ->  API http://127.0.0.1:<port>
//
// localhost and 127.0.0.1 are two sites, so the SPA's credentialed fetches are
// cross-site. The server is given nothing but PORT (no cookie settings, no
// trusted origins, no secret, no database URL): it must decide on its own
// that this is the two-site shape and set SameSite=None; Secure; Partitioned
// cookies, which Chromium keeps (loopback hosts count as secure) and sends
// back after a reload. With the old Lax default the session was gone on the
// next request.
//
// Run through ./run.sh (needs SERVER_BIN and /usr/bin/chromium).

import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  SHOTS, testDir, startSpaServer, freePort, startServer, launchChromium, allCookies,
} from './harness.mjs';
import { SESSION_COOKIE } from './diagnostics.mjs';

const SERVER_BIN = process.env.SERVER_BIN;
// make dev's default TRUSTED_ORIGINS names this port.
const SPA_PORT = 5173;

if (!SERVER_BIN) throw new Error('SERVER_BIN must point to the built server (run ./run.sh)');

async function startSpa() {
  // Dual-stack, so "localhost" reaches it whichever address Chromium tries.
  try {
    return await startSpaServer(null, { port: SPA_PORT, host: '::' });
  } catch {
    return startSpaServer(null, { port: SPA_PORT, host: '0.0.0.0' });
  }
}

test('make dev, no configuration: SPA on http://localhost:5173 keeps its session with the API on http://127.0.0.1', async (t) => {
  const { dir, defer } = testDir(t, 'adstudio-browser-devdefaults-');
  const spa = await startSpa();
  defer(spa.close);
  const port = await freePort();
  const server = await startServer({ bin: SERVER_BIN, port, dir, bare: true, env: {} });
  defer(server.stop);
  const apiOrigin = `http://127.0.0.1:${port}`;
  const spaOrigin = `http://localhost:${SPA_PORT}`;
  const chrome = await launchChromium(path.join(dir, 'chromium-profile'));
  defer(chrome.close);
  const page = chrome.page;
  const api = (method, p, body) => page.evaluate(([m, pp, b]) => window.api(m, pp, b), [method, p, body]);

  try {
    // The start-up summary says which shape was chosen, and why.
    assert.match(server.output(), /samesite=none secure=true partitioned=true .*two sites: trusted origin http:\/\/localhost:5173 is on another site/,
      'start-up summary names the two-site shape');

    await page.goto(`${spaOrigin}/?api=${encodeURIComponent(apiOrigin)}`, { waitUntil: 'load' });
    const email = `dev-${Date.now()}@example.com`;
    const signUp = await api('POST', '/api/auth/sign-up/email', { name: 'Dev Defaults', email, password: 'correct-horse-battery-staple' });
    assert.equal(signUp.status, 200, `sign-up: ${JSON.stringify(signUp)}`);

    const stored = (await allCookies(chrome.browser)).filter((c) => c.name === SESSION_COOKIE);
    assert.equal(stored.length, 1, `session cookie stored: ${JSON.stringify(await allCookies(chrome.browser))}`);
    assert.equal(stored[0].sameSite, 'None');
    assert.equal(stored[0].secure, true);
    assert.ok(stored[0].partitionKey, `stored partitioned under the SPA's site: ${JSON.stringify(stored[0])}`);

    await page.reload({ waitUntil: 'load' });
    const session = await api('GET', '/api/auth/get-session');
    assert.equal(session.status, 200);
    assert.equal(session.json?.user?.email, email, `get-session after reload: ${session.text}`);
    const me = await api('GET', '/api/me');
    assert.equal(me.status, 200, `/api/me after reload: ${JSON.stringify(me)}`);
    assert.equal(me.json?.user?.email, email);
  } catch (err) {
    await page.screenshot({ path: path.join(SHOTS, 'dev-defaults-failure.png'), fullPage: true }).catch(() => {});
    console.error('--- server output ---\n' + server.output().slice(-4000));
    console.error('--- cookie store ---\n' + JSON.stringify(await allCookies(chrome.browser).catch(() => []), null, 1));
    throw err;
  }
});
