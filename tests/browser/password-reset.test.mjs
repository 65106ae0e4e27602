// Browser test: password reset by mail (docs/auth-wire.md §3.11), seen from
// a real headless Chromium with its default cookie settings:
//
//   two sites: SPA https://app.test:<p1>  ->  API https://api.example:<p2>
//              (SameSite=None; Secure; Partitioned, the server's default)
//   one site:  SPA https://app.example.test:<p1> -> API https://api.example.test:<p2>
//              (COOKIE_SAMESITE=lax)
//
// In each shape: the SPA page signs up, then asks for a reset link
// (POST /request-password-reset {email, redirectTo: <SPA>/reset}); an unknown
// address gets the same answer and no mail. The server's outbox
// (EMAIL_TRANSPORT=outbox, OUTBOX_DIR: a temp dir) holds one .eml whose
// quoted-printable text part has the link on the API's site
// (/api/auth/reset-password/<token>?callbackURL=<SPA>/reset); cmd/dev's log
// line names the same link. The link is opened as a click in a mail client
// would: a new tab, a top-level navigation with no initiator. Chromium
// follows the 302 to the SPA's /reset?token=; that page POSTs
// /reset-password {newPassword, token} with credentials: "include", as
// better-auth's resetPassword does -> 200 {"status":true}. Then the original
// tab is signed out (get-session?disableCookieCache=true, carrying the old
// session cookie, is null: the reset ended every session), the
// old password fails (401 INVALID_EMAIL_OR_PASSWORD), the new one signs in,
// and that session survives a reload, in both tabs. Opening the spent link
// again lands on /reset?error=INVALID_TOKEN.
//
// Also under make test-lambda (the local gateway in front of the packaged
// functions): the gateway passes EMAIL_TRANSPORT, EMAIL_FROM and OUTBOX_DIR
// on to the functions (internal/devtools/localgateway FunctionEnv), so the
// auth function writes the same outbox.
//
// Run through ./run.sh (needs SERVER_BIN and /usr/bin/chromium).

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupStack, packagedFunctions, uniqueEmail } from './harness.mjs';
import {
  SESSION_COOKIE, header, formatExchange, exchangesSince, one, sentCookieNames, assertSessionUser, withDiagnostics,
} from './diagnostics.mjs';

const SERVER_BIN = process.env.SERVER_BIN;
const OLD_PASSWORD = 'correct-horse-battery-staple';
const NEW_PASSWORD = 'a-brand-new-reset-password-42';
const RESET_ANSWER = { status: true, message: 'If this email exists in our system, check your email for the reset link' };

if (!SERVER_BIN) throw new Error('SERVER_BIN must point to the built server (run ./run.sh)');

// The stack with the server's mail in env.outboxDir (printed on failure).
function setup(t, opts) {
  return setupStack(t, {
    ...opts,
    bin: SERVER_BIN,
    prepare: (env) => {
      env.outboxDir = path.join(env.dir, 'outbox');
      env.dumps.push({
        title: `outbox ${env.outboxDir}`,
        text: () => outboxFiles(env).map((f) => `${f}:\n${fs.readFileSync(f, 'utf8')}`).join('\n'),
      });
      return {
        // make dev's default transport, named explicitly (the packaged
        // functions default to none, and need a sender).
        EMAIL_TRANSPORT: 'outbox',
        EMAIL_FROM: 'AdDreams <noreply@localhost>',
        OUTBOX_DIR: env.outboxDir,
      };
    },
    describe: (env) => `outbox ${env.outboxDir}${packagedFunctions(env) ? ' (packaged functions behind the local gateway)' : ''}`,
  });
}

// ------------------------------------------------------------------ outbox

function outboxFiles(env) {
  if (!fs.existsSync(env.outboxDir)) return [];
  return fs.readdirSync(env.outboxDir).filter((f) => f.endsWith('.eml')).sort().map((f) => path.join(env.outboxDir, f));
}

// One MIME entity: its headers (lower-case names, folded lines joined) and
// its raw body.
function parseEntity(raw) {
  const m = raw.match(/\r?\n\r?\n/);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body };
}

// The leaf parts of a message, multiparts opened recursively.
function leafParts(raw) {
  const e = parseEntity(raw);
  const ct = e.headers['content-type'] || 'text/plain';
  if (!/^multipart\//i.test(ct)) return [e];
  const boundary = ct.match(/boundary="?([^";]+)"?/i)?.[1];
  assert.ok(boundary, `multipart without a boundary: ${ct}`);
  const out = [];
  const pieces = e.body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // pieces[0] is the preamble; the last piece starts with "--" (the close).
  for (const piece of pieces.slice(1)) {
    if (piece.startsWith('--')) break;
    out.push(...leafParts(piece.replace(/^[ \t]*\r?\n/, '')));
  }
  return out;
}

// Quoted-printable (RFC 2045 §6.7): soft line breaks "=\n" go, "=XX" is a byte.
function decodeQuotedPrintable(s) {
  const text = s.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(part) {
  const cte = (part.headers['content-transfer-encoding'] || '7bit').toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.body);
  if (cte === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return part.body;
}

// The one message in the outbox: its headers, decoded text part and links.
async function readOnlyMessage(env) {
  let files = [];
  for (let i = 0; i < 50 && files.length === 0; i++) {
    files = outboxFiles(env);
    if (!files.length) await sleep(100);
  }
  assert.equal(files.length, 1, `expected one message in the outbox ${env.outboxDir}, got ${JSON.stringify(files)}`);
  const raw = fs.readFileSync(files[0], 'utf8');
  const msg = parseEntity(raw);
  const text = leafParts(raw).find((p) => /^text\/plain/i.test(p.headers['content-type'] || ''));
  assert.ok(text, `no text/plain part in ${files[0]}:\n${raw}`);
  const decoded = decodeBody(text);
  const links = decoded.match(/https?:\/\/[^\s<>"]+/g) || [];
  return { file: files[0], raw, headers: msg.headers, textPart: text, text: decoded, links };
}

// cmd/dev's log line for the message: link1=… (slog text or JSON).
function loggedLinks(env) {
  return [...env.server.output().matchAll(/"?link1"?[=:]"?(https?:\/\/[^\s"]+)/g)].map((m) => m[1]);
}

// ------------------------------------------------------------------ the flow

async function resetFlow(t, env, { twoSites }) {
  const email = uniqueEmail('reset');
  const redirectTo = `${env.spaOrigin}/reset`;

  // 1. The SPA page signs up and keeps its session across a reload.
  await env.page.goto(env.spaUrl, { waitUntil: 'load' });
  const signUp = await env.api('POST', '/api/auth/sign-up/email', { name: 'Reset Tester', email, password: OLD_PASSWORD });
  assert.equal(signUp.status, 200, `sign-up: ${JSON.stringify(signUp)}`);
  const userId = signUp.json?.user?.id;
  assert.ok(userId, `sign-up body: ${signUp.text}`);
  await env.page.reload({ waitUntil: 'load' });
  assertSessionUser(await env.api('GET', '/api/auth/get-session'), email, 'get-session after sign-up + reload');

  // 2. request-password-reset: an unknown address and the user's get the
  //    same answer; only the user's writes a message.
  let start = env.proxy.log.length;
  const unknown = await env.api('POST', '/api/auth/request-password-reset', { email: `nobody-${Date.now()}@example.com`, redirectTo });
  assert.equal(unknown.status, 200, `request-password-reset (unknown address): ${JSON.stringify(unknown)}`);
  assert.deepEqual(unknown.json, RESET_ANSWER);
  assert.deepEqual(outboxFiles(env), [], 'no mail for an unknown address');
  const asked = await env.api('POST', '/api/auth/request-password-reset', { email, redirectTo });
  assert.equal(asked.status, 200, `request-password-reset: ${JSON.stringify(asked)}`);
  assert.deepEqual(asked.json, RESET_ANSWER);
  const askedX = exchangesSince(env.proxy.log, start, 'POST', '/api/auth/request-password-reset').at(-1);
  assert.equal(header(askedX.reqHeaders, 'origin'), env.spaOrigin);
  assert.equal(header(askedX.resHeaders, 'access-control-allow-origin'), env.spaOrigin);
  assert.equal(header(askedX.resHeaders, 'access-control-allow-credentials'), 'true');

  // 3. The mail: one .eml, its quoted-printable text part decoded.
  const msg = await readOnlyMessage(env);
  t.diagnostic(`${env.name}: outbox ${path.basename(msg.file)}: To ${msg.headers.to}; Subject ${msg.headers.subject}; ` +
    `text part ${msg.textPart.headers['content-type']}, ${msg.textPart.headers['content-transfer-encoding']}; links ${JSON.stringify(msg.links)}`);
  assert.ok((msg.headers.to || '').includes(email), `To: ${msg.headers.to}`);
  const resetLinks = msg.links.filter((l) => l.includes('/api/auth/reset-password/'));
  assert.equal(resetLinks.length, 1, `one reset link in the text part:\n${msg.text}`);
  const link = resetLinks[0];
  const linkURL = new URL(link);
  const token = linkURL.pathname.split('/').at(-1);
  assert.match(token, /^[A-Za-z0-9]{24}$/, `token in ${link}`);
  assert.equal(link, `${env.apiOrigin}/api/auth/reset-password/${token}?callbackURL=${encodeURIComponent(redirectTo)}`,
    'the link is on the API\'s site, with the SPA page as callbackURL');
  const logged = loggedLinks(env);
  if (packagedFunctions(env)) {
    // The auth function's log reaches the gateway's output through RIE;
    // compared when it is there, as its timing is RIE's.
    t.diagnostic(`${env.name}: links in the gateway's output: ${JSON.stringify(logged)} (the functions' own log lines)`);
    if (logged.length) assert.deepEqual(logged, [link], 'the logged link is the mailed one');
  } else {
    assert.deepEqual(logged, [link], `cmd/dev logs the mailed link as link1=\n${env.server.output().slice(-2000)}`);
  }

  // 4. A click in the mail client: a new tab, top-level, no initiator.
  //    Chromium follows the 302 to the SPA's page with ?token=.
  start = env.proxy.log.length;
  const tab = await env.newTab('reset-link');
  await tab.page.goto(link, { waitUntil: 'load' });
  await tab.page.waitForFunction(() => document.body.dataset.landed === 'yes', null, { timeout: 15_000 });
  const landing = await tab.page.evaluate(() => window.landing);
  const landedShot = await env.screenshot('reset-page', tab.page);
  const landed = new URL(tab.page.url());
  const linkX = one(exchangesSince(env.proxy.log, start, 'GET', linkURL.pathname), `GET ${linkURL.pathname}`);
  const linkHop = tab.decisions.hops().find((h) => h.url === link);
  t.diagnostic(`${env.name}: reset link in a new tab -> ${linkX.status} Location ${header(linkX.resHeaders, 'location')}; ` +
    `landed on ${landed.href}; Cookie names on the link ${JSON.stringify(sentCookieNames(linkX))}; ` +
    `Chromium: ${JSON.stringify(linkHop && { type: linkHop.type, sentCookies: linkHop.sentCookies })}; screenshot ${landedShot}`);
  assert.equal(linkX.status, 302, formatExchange(linkX));
  assert.equal(header(linkX.resHeaders, 'location'), `${redirectTo}?token=${token}`, formatExchange(linkX));
  assert.equal(header(linkX.reqHeaders, 'sec-fetch-site'), 'none', 'opened like a link from another application');
  assert.equal(header(linkX.reqHeaders, 'sec-fetch-mode'), 'navigate');
  assert.equal(header(linkX.reqHeaders, 'sec-fetch-dest'), 'document');
  assert.equal(linkHop?.type, 'Document', 'the link is a top-level navigation');
  if (twoSites) {
    // The session cookie is partitioned under the SPA's site: a top-level
    // visit to the API's site does not carry it (nor needs it).
    assert.ok(!sentCookieNames(linkX).includes(SESSION_COOKIE), `session cookie sent on the link: ${header(linkX.reqHeaders, 'cookie')}`);
  } else {
    // First-party SameSite=Lax: a top-level GET carries it (not needed either).
    assert.ok(sentCookieNames(linkX).includes(SESSION_COOKIE), `Lax session cookie not sent on the link: ${header(linkX.reqHeaders, 'cookie')}`);
  }
  assert.equal(landed.origin, env.spaOrigin, `landed on the SPA origin: ${landed.href}`);
  assert.equal(landed.pathname, '/reset');
  assert.equal(landed.searchParams.get('token'), token, landed.href);
  assert.equal(landed.searchParams.get('error'), null, landed.href);
  // The new tab is a top-level page of the SPA's site, so it shares the
  // original tab's cookies (and, in the two-site shape, its partition).
  assertSessionUser(landing.session, email, 'get-session on the reset page before the reset');

  // 5. The reset page posts the token with the new password.
  start = env.proxy.log.length;
  await tab.page.fill('#new-password', NEW_PASSWORD);
  await tab.page.click('#reset-submit');
  await tab.page.waitForFunction(() => window.lastReset !== undefined, null, { timeout: 15_000 });
  const reset = await tab.page.evaluate(() => window.lastReset);
  const resetShot = await env.screenshot('reset-done', tab.page);
  const resetX = one(exchangesSince(env.proxy.log, start, 'POST', '/api/auth/reset-password'), 'POST /api/auth/reset-password');
  t.diagnostic(`${env.name}: POST /reset-password -> ${reset.status} ${reset.text}; screenshot ${resetShot}`);
  assert.equal(reset.status, 200, formatExchange(resetX));
  assert.deepEqual(reset.json, { status: true });
  assert.deepEqual(JSON.parse(resetX.reqBody), { newPassword: NEW_PASSWORD, token });
  assert.equal(header(resetX.reqHeaders, 'origin'), env.spaOrigin);
  assert.equal(header(resetX.resHeaders, 'access-control-allow-origin'), env.spaOrigin, formatExchange(resetX));
  assert.equal(header(resetX.resHeaders, 'access-control-allow-credentials'), 'true', formatExchange(resetX));
  assert.ok(sentCookieNames(resetX).includes(SESSION_COOKIE), 'the credentialed reset carried the (still valid) session cookie');
  assert.ok(!(resetX.setCookie || []).some((l) => l.startsWith(SESSION_COOKIE + '=') && !/max-age=0/i.test(l)),
    `reset-password must not sign in: ${JSON.stringify(resetX.setCookie)}`);
  assert.equal(new URL(tab.page.url()).searchParams.get('token'), null, 'the page dropped the spent token from the address bar');

  // 6. The original tab is signed out: the reset ended every session.
  // (get-session first: its answer, like any signed-out one, expires the
  // cookies, and this request must still carry the old session cookie.)
  start = env.proxy.log.length;
  const gone = await env.api('GET', '/api/auth/get-session?disableCookieCache=true');
  const goneX = one(exchangesSince(env.proxy.log, start, 'GET', '/api/auth/get-session'), 'get-session?disableCookieCache=true');
  assert.ok(sentCookieNames(goneX).includes(SESSION_COOKIE), `the old session cookie was sent: ${header(goneX.reqHeaders, 'cookie')}`);
  assert.equal(gone.status, 200);
  assert.equal(gone.text, 'null', `get-session?disableCookieCache=true after the reset: ${formatExchange(goneX)}`);
  await env.page.reload({ waitUntil: 'load' });
  const afterReload = await env.api('GET', '/api/auth/get-session');
  assert.equal(afterReload.text, 'null', 'still signed out after a reload');
  const hist = await env.api('GET', '/api/history');
  assert.equal(hist.status, 401, `GET /api/history after the reset: ${JSON.stringify(hist)}`);
  t.diagnostic(`${env.name}: original tab after the reset: ` +
    `get-session?disableCookieCache=true ${gone.text} (Set-Cookie ${JSON.stringify((goneX.setCookie || []).map((l) => l.split(';')[0] + '; …'))}); after reload ${afterReload.text}`);

  // 7. The old password fails, the new one signs in, and that session
  //    survives a reload (in both tabs).
  const old = await env.api('POST', '/api/auth/sign-in/email', { email, password: OLD_PASSWORD });
  assert.equal(old.status, 401, `sign-in with the old password: ${JSON.stringify(old)}`);
  assert.equal(old.json?.code, 'INVALID_EMAIL_OR_PASSWORD', old.text);
  const signIn = await env.api('POST', '/api/auth/sign-in/email', { email, password: NEW_PASSWORD });
  assert.equal(signIn.status, 200, `sign-in with the new password: ${JSON.stringify(signIn)}`);
  assert.equal(signIn.json?.user?.id, userId, signIn.text);
  assertSessionUser(await env.api('GET', '/api/auth/get-session'), email, 'get-session after sign-in with the new password');
  await env.page.reload({ waitUntil: 'load' });
  assertSessionUser(await env.api('GET', '/api/auth/get-session'), email, 'get-session after sign-in + reload');
  const me = await env.api('GET', '/api/me');
  assert.equal(me.status, 200, `/api/me after sign-in + reload: ${JSON.stringify(me)}`);
  assert.equal(me.json?.user?.id, userId);
  const signedInShot = await env.screenshot('signed-in-new-password');
  await tab.page.reload({ waitUntil: 'load' });
  await tab.page.waitForFunction(() => document.body.dataset.landed === 'yes', null, { timeout: 15_000 });
  assertSessionUser((await tab.page.evaluate(() => window.landing)).session, email, 'get-session in the reset tab after a reload');
  t.diagnostic(`${env.name}: old password -> ${old.status} ${old.json?.code}; new password -> ${signIn.status}; ` +
    `signed in after reload in both tabs; screenshot ${signedInShot}`);

  // 8. The link is spent: opened again, it lands on the page with ?error=.
  const again = await env.newTab('spent-link');
  await again.page.goto(link, { waitUntil: 'load' });
  const spent = new URL(again.page.url());
  assert.equal(spent.origin + spent.pathname, redirectTo, spent.href);
  assert.equal(spent.searchParams.get('error'), 'INVALID_TOKEN', spent.href);
  assert.equal(spent.searchParams.get('token'), null, spent.href);
  t.diagnostic(`${env.name}: the spent link again -> ${spent.href}`);
  assert.equal(outboxFiles(env).length, 1, 'one mail in all');
}

// ------------------------------------------------------------------ tests

test('two sites, SameSite=None; Secure; Partitioned: a reset link from the mail (on the API\'s site) opened in a new tab lands on the SPA, which resets the password; every session ends', async (t) => {
  const env = await setup(t, {
    name: 'reset-two-sites',
    spaHost: 'app.test',
    apiHost: 'api.example',
    serverEnv: {}, // no cookie setting: the server picks SameSite=None; Secure; Partitioned itself
  });
  await withDiagnostics(env, () => resetFlow(t, env, { twoSites: true }));
});

test('one site (app.example.test -> api.example.test), SameSite=Lax: the same reset by mail', async (t) => {
  const env = await setup(t, {
    name: 'reset-one-site',
    spaHost: 'app.example.test',
    apiHost: 'api.example.test',
    serverEnv: { COOKIE_SAMESITE: 'lax' },
  });
  await withDiagnostics(env, () => resetFlow(t, env, { twoSites: false }));
});
