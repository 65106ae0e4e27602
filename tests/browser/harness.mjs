// Test harness: self-signed TLS, a static SPA page over HTTPS, an HTTPS reverse
// proxy in front of the plain-HTTP Go server, the Go server itself, and a
// headless Chromium driven over CDP by playwright-core.
//
// Chromium is spawned by this file (not by playwright's launcher) so that it
// runs with exactly the flags listed in CHROMIUM_ARGS: playwright's own
// launcher adds ~40 switches (e.g. --disable-field-trial-config and
// --disable-features=ThirdPartyStoragePartitioning,...) which would make the
// cookie behaviour under test differ from a stock Chromium. Pages are opened in
// the browser's DEFAULT context (the regular profile), not in a
// Target.createBrowserContext context, which Chromium treats like incognito.

import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// SCREENSHOT_DIR (run.sh sets it), or a fresh temp dir.
export const SHOTS = process.env.SCREENSHOT_DIR || tmpDir('adstudio-browser-shots-');

// A fresh address at example.com for each sign-up.
export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

// testDir makes a temp dir for test t and returns it with defer(fn): after
// the test the deferred cleanups run, last first, then the dir is removed
// (KEEP_TMP=1 keeps it: db, certs, Chromium profile).
export function testDir(t, prefix) {
  const dir = tmpDir(prefix);
  const cleanups = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error('cleanup:', e));
    if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, defer: (fn) => { cleanups.push(fn); } };
}

// SIGTERM, then SIGKILL if the child is still there after 5 s.
async function stopChild(child, exited) {
  if (exited()) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => { if (!exited()) child.kill('SIGKILL'); }, 5000);
  await once(child, 'exit').catch(() => {});
  clearTimeout(t);
}

// ---------------------------------------------------------------- TLS

export function makeCert(dir, hostnames) {
  const key = path.join(dir, 'key.pem');
  const crt = path.join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', crt, '-days', '2',
    '-subj', '/CN=adstudio-browser-test',
    '-addext', 'subjectAltName=' + hostnames.map((h) => 'DNS:' + h).join(','),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(crt) };
}

async function listen(server, port = 0, host = '127.0.0.1') {
  server.listen(port, host);
  await once(server, 'listening');
  return server.address().port;
}

export async function freePort() {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

// ---------------------------------------------------------------- SPA page

// A tiny page standing in for the SPA. `window.api(method, path, body)` does
// what better-auth's client does: fetch with credentials: "include", JSON body
// with content-type application/json on POST (and on any call with
// opts.json, as the SPA's app-API client does). `window.showImage(src)` adds
// an <img> as the SPA's history page does and reports whether it loaded.
//
// The API origin comes from ?api= and is kept in sessionStorage and
// localStorage (standing in for the SPA's build-time API base), so the pages
// the social sign-in lands on (/done, /welcome, /error, without ?api=) and
// a reset link opened in a new tab (/reset, whose tab has a fresh
// sessionStorage) know it.
// "Sign in with GitHub" (#signin-github, identity from #login-hint) does what
// better-auth's signIn.social does: POST /sign-in/social, then
// location.href = data.url. On a landing page, `window.landing` (a promise) is
// what the SPA saw there: with ?ott= (the two-site shape) it first asks
// get-session (the test's probe: no session before the opt-in), then makes
// the opt-in call oneTimeToken.verify({token: ott}) and drops ott from the
// address bar; then get-session, whose user it shows in #user.
// On /reset (the password-reset link's redirectTo) the form #reset-form does
// what better-auth's resetPassword({newPassword, token}) does: POST
// /reset-password with the token from ?token=; `window.lastReset` is its
// answer, and on success the token is dropped from the address bar.
const SPA_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>adstudio browser test SPA</title>
<style>body{font:14px monospace;margin:1em} pre{white-space:pre-wrap;word-break:break-all} #images img{width:360px;height:auto;border:1px solid #888;margin:4px}</style>
</head><body>
<h1 id="origin"></h1>
<div>API: <span id="apibase"></span></div>
<div><input id="login-hint" size="40" placeholder="login hint (email)"> <button id="signin-github" type="button">Sign in with GitHub</button></div>
<div>Signed in as: <strong id="user">(nobody)</strong></div>
<form id="reset-form" hidden>New password: <input id="new-password" type="password" size="30" autocomplete="new-password"> <button id="reset-submit" type="submit">Reset password</button> <span id="reset-result"></span></form>
<div id="images"></div>
<pre id="log"></pre>
<script>
const API = new URLSearchParams(location.search).get('api') || sessionStorage.getItem('api') || localStorage.getItem('api');
if (API) { sessionStorage.setItem('api', API); localStorage.setItem('api', API); }
document.getElementById('origin').textContent = location.origin + ' (loaded ' + new Date().toISOString() + ')';
document.getElementById('apibase').textContent = API;
const logEl = document.getElementById('log');
window.api = async (method, path, body, opts = {}) => {
  const init = { method, credentials: 'include', headers: {} };
  if (body !== undefined || opts.json) init.headers['content-type'] = 'application/json';
  if (body !== undefined) init.body = JSON.stringify(body);
  let r;
  try {
    r = await fetch(API + path, init);
  } catch (e) {
    logEl.textContent += method + ' ' + path + ' -> fetch error: ' + e + '\\n';
    return { status: 0, error: String(e) };
  }
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  logEl.textContent += method + ' ' + path + ' -> ' + r.status + ' ' + text.slice(0, 400) + '\\n';
  return { status: r.status, text, json };
};
// What the SPA's history page does with an item: <img src=assetUrl>. Resolves
// once the image has loaded or failed (or after timeoutMs).
window.showImage = (src, timeoutMs = 15000) => new Promise((resolve) => {
  const img = document.createElement('img');
  img.alt = 'generated image';
  let done = false;
  const finish = (event) => {
    if (done) return;
    done = true;
    const res = { event, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight };
    logEl.textContent += '<img src=' + src + '> -> ' + JSON.stringify(res) + '\\n';
    resolve(res);
  };
  img.addEventListener('load', () => finish('load'));
  img.addEventListener('error', () => finish('error'));
  setTimeout(() => finish('timeout'), timeoutMs);
  img.src = src;
  document.getElementById('images').appendChild(img);
});
const userEl = document.getElementById('user');
const showUser = (r) => {
  const u = r && r.json && r.json.user;
  userEl.textContent = u ? u.email + ' (' + u.name + ', id ' + u.id + ')' : '(nobody)';
};
// better-auth's signIn.social({provider, callbackURL, errorCallbackURL, newUserCallbackURL, loginHint}).
document.getElementById('signin-github').addEventListener('click', async () => {
  const hint = document.getElementById('login-hint').value;
  const r = await window.api('POST', '/api/auth/sign-in/social', {
    provider: 'github',
    callbackURL: location.origin + '/done',
    errorCallbackURL: location.origin + '/error',
    newUserCallbackURL: location.origin + '/welcome',
    loginHint: hint || undefined,
  });
  window.lastSignInSocial = r;
  if (r.json && r.json.url && r.json.redirect) location.href = r.json.url;
});
if (location.pathname === '/reset') {
  const form = document.getElementById('reset-form');
  form.hidden = false;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams(location.search);
    const r = await window.api('POST', '/api/auth/reset-password', {
      newPassword: document.getElementById('new-password').value,
      token: q.get('token') || undefined,
    });
    document.getElementById('reset-result').textContent = r.status === 200 ? 'password changed: sign in again' : 'reset failed: ' + r.text;
    if (r.status === 200) {
      userEl.textContent = '(nobody)'; // the reset ended every session
      q.delete('token');
      history.replaceState(null, '', location.pathname + (q.size ? '?' + q : ''));
    }
    window.lastReset = r;
  });
}
if (location.pathname !== '/') {
  window.landing = (async () => {
    const q = new URLSearchParams(location.search);
    const out = { href: location.href, ott: q.get('ott'), error: q.get('error') };
    if (out.ott) {
      out.beforeVerify = await window.api('GET', '/api/auth/get-session');
      out.verify = await window.api('POST', '/api/auth/one-time-token/verify', { token: out.ott });
      q.delete('ott');
      history.replaceState(null, '', location.pathname + (q.size ? '?' + q : ''));
    }
    out.session = await window.api('GET', '/api/auth/get-session');
    showUser(out.session);
    if (out.error) userEl.textContent += ' - sign-in failed: ' + out.error;
    document.body.dataset.landed = 'yes';
    return out;
  })();
}
</script>
</body></html>
`;

// The SPA's page is served at /, at the social sign-in's landing paths, at
// the password reset's redirectTo and at the checkout's return URLs.
export const SPA_PATHS = ['/', '/done', '/welcome', '/error', '/reset', '/billing', '/billing/done'];

// startSpaServer serves the page over HTTPS with tls; with tls null, over
// plain HTTP on host:port (the shape of a Vite dev server: make dev's
// default trusted origin is http://localhost:5173).
export async function startSpaServer(tls, { port = 0, host = '127.0.0.1' } = {}) {
  const handler = (req, res) => {
    const u = new URL(req.url, 'https://x');
    if (SPA_PATHS.includes(u.pathname)) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(SPA_HTML);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const bound = await listen(server, port, host);
  return { port: bound, close: () => closeServer(server) };
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((r) => server.close(() => r()));
}

// ---------------------------------------------------------------- proxy

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate',
  'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

function rawPairs(raw) {
  const out = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i], raw[i + 1]]);
  return out;
}

// HTTPS reverse proxy to the plain-HTTP server. Forwards method, path, every
// request header (Host, Origin, Cookie, Sec-Fetch-*, ... unchanged) and the
// body; adds X-Forwarded-Proto/-Host/-For; returns status, every response
// header (each Set-Cookie separately and unchanged) and the body. Every
// exchange is recorded in `log` for assertions and diagnostics.
export async function startProxy(tls) {
  const log = [];
  const state = { target: null };
  const server = https.createServer(tls, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const entry = {
        method: req.method,
        url: req.url,
        reqHeaders: rawPairs(req.rawHeaders),
        // An upload's bytes (a PUT of an image) are not worth printing.
        reqBody: /^(image|audio|video)\/|octet-stream/i.test(String(req.headers['content-type'] || ''))
          ? `(binary, ${body.length} bytes)`
          : body.toString('utf8').slice(0, 2000),
      };
      log.push(entry);
      if (!state.target) {
        entry.status = 502;
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('proxy: no upstream yet');
        return;
      }
      const headers = [];
      for (const [k, v] of entry.reqHeaders) {
        const lk = k.toLowerCase();
        if (HOP_BY_HOP.has(lk) || lk.startsWith('x-forwarded-') || lk === 'content-length') continue;
        headers.push(k, v);
      }
      headers.push('X-Forwarded-Proto', 'https');
      headers.push('X-Forwarded-Host', req.headers.host || '');
      headers.push('X-Forwarded-For', req.socket.remoteAddress.replace(/^::ffff:/, ''));
      if (body.length || !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) headers.push('Content-Length', String(body.length));
      const up = http.request({
        host: '127.0.0.1', port: state.target, method: req.method, path: req.url, headers,
      }, (ures) => {
        const resPairs = rawPairs(ures.rawHeaders);
        entry.status = ures.statusCode;
        entry.resHeaders = resPairs;
        entry.setCookie = resPairs.filter(([k]) => k.toLowerCase() === 'set-cookie').map(([, v]) => v);
        const out = [];
        for (const [k, v] of resPairs) {
          if (HOP_BY_HOP.has(k.toLowerCase())) continue;
          out.push(k, v);
        }
        const resChunks = [];
        ures.on('data', (c) => resChunks.push(c));
        ures.on('end', () => {
          const rb = Buffer.concat(resChunks);
          entry.resBytes = rb.length;
          const ct = String(ures.headers['content-type'] || '');
          entry.resBody = /^(image|audio|video)\/|octet-stream/i.test(ct)
            ? `(binary, ${rb.length} bytes)`
            : rb.toString('utf8').slice(0, 2000);
          const filtered = [];
          for (let i = 0; i < out.length; i += 2) {
            if (out[i].toLowerCase() !== 'content-length') filtered.push(out[i], out[i + 1]);
          }
          if (ures.statusCode !== 204 && ures.statusCode !== 304) filtered.push('Content-Length', String(rb.length));
          res.writeHead(ures.statusCode, filtered);
          res.end(rb);
        });
      });
      up.on('error', (e) => {
        entry.status = 502;
        entry.error = String(e);
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('proxy upstream error: ' + e);
      });
      up.end(body);
    });
  });
  const port = await listen(server);
  return {
    port,
    log,
    setTarget: (p) => { state.target = p; },
    close: () => closeServer(server),
  };
}

// ---------------------------------------------------------------- Go server

// startServer runs the Go server in dir. With bare, it gets nothing but
// PORT and the process basics, exactly as `make dev` with no configuration
// (its database, secret and objects then live in dir/.data).
export async function startServer({ bin, port, dir, env, bare = false }) {
  const dbPath = path.join(dir, 'test.db');
  const basics = {
    PATH: process.env.PATH,
    HOME: process.env.HOME || dir,
    TMPDIR: process.env.TMPDIR || os.tmpdir(),
    PORT: String(port),
  };
  const fullEnv = bare ? { ...basics, ...env } : {
    ...basics,
    TURSO_DATABASE_URL: 'file:' + dbPath,
    BETTER_AUTH_SECRET: 'browser-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    RATE_LIMIT_ENABLED: 'false',
    IP_ADDRESS_HEADERS: 'x-forwarded-for',
    ...env,
  };
  const child = spawn(bin, [], { env: fullEnv, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let sawListening = false;
  const onData = (d) => {
    output += d.toString();
    if (output.includes(`listening on http://127.0.0.1:${port}`)) sawListening = true;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  const deadline = Date.now() + 60_000;
  let healthy = false;
  while (Date.now() < deadline) {
    if (exited) break;
    if (sawListening) {
      try {
        const status = await new Promise((resolve, reject) => {
          const r = http.get({ host: '127.0.0.1', port, path: '/api/health', timeout: 2000 }, (res) => {
            res.resume();
            resolve(res.statusCode);
          });
          r.on('error', reject);
          r.on('timeout', () => r.destroy(new Error('timeout')));
        });
        if (status === 200) { healthy = true; break; }
      } catch { /* not yet */ }
    }
    await sleep(100);
  }
  const handle = {
    env: fullEnv,
    output: () => output,
    stop: () => stopChild(child, () => exited),
  };
  if (!healthy) {
    await handle.stop();
    throw new Error(
      `server did not become ready (listening line seen: ${sawListening}, exited: ${JSON.stringify(exited)})\n` +
      `--- server output ---\n${output}`);
  }
  return handle;
}

// ---------------------------------------------------------------- Chromium

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--ignore-certificate-errors',
  '--host-resolver-rules=MAP *.test 127.0.0.1, MAP *.example 127.0.0.1',
  '--window-size=1000,700',
];

// launchChromium starts Chromium with its profile in userDataDir (made if
// missing).
export async function launchChromium(userDataDir) {
  fs.mkdirSync(userDataDir, { recursive: true });
  const args = [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', 'about:blank'];
  const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  const portFile = path.join(userDataDir, 'DevToolsActivePort');
  const deadline = Date.now() + 30_000;
  let ws = null;
  while (Date.now() < deadline && !exited) {
    try {
      const [port, p] = fs.readFileSync(portFile, 'utf8').trim().split('\n');
      if (port && p) { ws = `ws://127.0.0.1:${port}${p}`; break; }
    } catch { /* not yet */ }
    await sleep(50);
  }
  if (!ws) {
    if (!exited) child.kill('SIGKILL');
    throw new Error(`Chromium did not start (exit ${JSON.stringify(exited)}):\n${output}`);
  }
  const browser = await chromium.connectOverCDP(ws);
  const context = browser.contexts()[0]; // the default (regular) profile
  const page = context.pages()[0] || (await context.newPage());
  return {
    browser,
    context,
    page,
    version: browser.version(),
    output: () => output,
    close: async () => {
      if (exited) return;
      try {
        const s = await browser.newBrowserCDPSession();
        await s.send('Browser.close');
      } catch { /* fall through */ }
      const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      if (!exited) await once(child, 'exit').catch(() => {});
      clearTimeout(t);
    },
  };
}

// Records, for every network request of `page`, the cookies Chromium attached
// or withheld (with Chromium's reasons) and the Set-Cookie lines it accepted
// or rejected (with reasons), from the DevTools Network domain.
//
// entries(): one record per request id, as the last hop left it (a redirect
// chain, e.g. a navigation through an OAuth callback, shares one id).
// hops(): one record per hop of every request, oldest first, so each leg of a
// redirect chain has its own URL, sent cookies and Set-Cookie decisions (the
// DevTools events of one id arrive in hop order; hop i is the i-th of each).
export async function recordCookieDecisions(context, page) {
  const cdp = await context.newCDPSession(page);
  const byId = new Map();
  const hopsById = new Map();
  const order = [];
  const get = (id) => {
    if (!byId.has(id)) {
      byId.set(id, { requestId: id });
      hopsById.set(id, { sent: [], extra: [], res: [] });
      order.push(id);
    }
    return byId.get(id);
  };
  cdp.on('Network.requestWillBeSent', (e) => {
    const r = get(e.requestId);
    r.method = e.request.method;
    r.url = e.request.url;
    r.type = e.type;
    hopsById.get(e.requestId).sent.push({ method: e.request.method, url: e.request.url, type: e.type, time: e.wallTime });
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
    const r = get(e.requestId);
    r.requestHeaders = e.headers;
    r.sentCookies = (e.associatedCookies || []).map((c) => ({
      name: c.cookie.name,
      partitionKey: c.cookie.partitionKey,
      blockedReasons: c.blockedReasons,
      exemptionReason: c.exemptionReason,
    }));
    r.siteHasCookieInOtherPartition = e.siteHasCookieInOtherPartition;
    hopsById.get(e.requestId).extra.push({
      requestHeaders: e.headers,
      sentCookies: r.sentCookies,
      siteHasCookieInOtherPartition: e.siteHasCookieInOtherPartition,
    });
  });
  cdp.on('Network.responseReceivedExtraInfo', (e) => {
    const r = get(e.requestId);
    r.status = e.statusCode;
    r.blockedSetCookies = (e.blockedCookies || []).map((b) => ({
      line: b.cookieLine,
      blockedReasons: b.blockedReasons,
    }));
    r.exemptedSetCookies = (e.exemptedCookies || []).map((x) => ({
      name: x.cookie.name,
      exemptionReason: x.exemptionReason,
    }));
    r.cookiePartitionKey = e.cookiePartitionKey;
    hopsById.get(e.requestId).res.push({
      status: e.statusCode,
      responseHeaders: e.headers,
      blockedSetCookies: r.blockedSetCookies,
      exemptedSetCookies: r.exemptedSetCookies,
      cookiePartitionKey: e.cookiePartitionKey,
    });
  });
  await cdp.send('Network.enable');
  return {
    entries: () => [...byId.values()],
    hops: () => order.flatMap((id) => {
      const h = hopsById.get(id);
      return h.sent.map((sent, i) => ({ requestId: id, hop: i, ...sent, ...(h.extra[i] || {}), ...(h.res[i] || {}) }));
    }),
    detach: () => cdp.detach().catch(() => {}),
  };
}

// Every cookie in the profile's cookie store, partitioned ones included.
export async function allCookies(browser) {
  const s = await browser.newBrowserCDPSession();
  try {
    const { cookies } = await s.send('Storage.getCookies');
    return cookies;
  } finally {
    await s.detach().catch(() => {});
  }
}

// ---------------------------------------------------------------- fake provider

// Starts cmd/oauthfake (the fake Google and GitHub) on 127.0.0.1 with a free
// port. `interactive` makes its authorize pages show the consent page
// (#approve / #deny) instead of redirecting at once.
export async function startOAuthFake({ bin, interactive = true }) {
  const args = interactive ? ['-interactive'] : [];
  const child = spawn(bin, args, {
    env: { PATH: process.env.PATH, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oauthfake did not start in 10 s:\n${output}`)), 10_000);
    const onData = (d) => {
      output += d.toString();
      const m = output.match(/oauthfake: listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => { clearTimeout(timer); reject(new Error(`oauthfake exited ${JSON.stringify(exited)}:\n${output}`)); });
  });
  return {
    port,
    output: () => output,
    stop: () => stopChild(child, () => exited),
  };
}

// ---------------------------------------------------------------- one test's stack

// setupStack starts what one test drives, in this order: a certificate for
// spaHost, apiHost and otherHosts; the SPA page on https://spaHost; the HTTPS
// proxy on https://apiHost; prepare(env), if given, for what the server must
// know of before it starts (it returns more server environment); the Go
// server bin behind the proxy (serverEnv comes last, over the defaults);
// Chromium, with the SPA tab's cookie decisions recorded. Everything stops
// after the test (testDir). The returned env is what the tests and
// withDiagnostics (diagnostics.mjs) use; prepare may add to env.otherProxies
// ({label, proxy}: more proxied exchanges to print on failure) and env.dumps
// ({title, text()}: more to print on failure). describe(env), if given, adds
// to the test's diagnostic line.
export async function setupStack(t, { bin, name, spaHost, apiHost, otherHosts = [], prepare, serverEnv = {}, describe }) {
  const started = Date.now();
  const { dir, defer } = testDir(t, `adstudio-browser-${name}-`);
  const env = { name, dir, defer, tabs: [], otherProxies: [], dumps: [] };
  env.tls = makeCert(dir, [spaHost, apiHost, ...otherHosts]);
  const spa = await startSpaServer(env.tls);
  defer(spa.close);
  const proxy = await startProxy(env.tls);
  defer(proxy.close);
  env.proxy = proxy;
  env.spaOrigin = `https://${spaHost}:${spa.port}`;
  env.apiOrigin = `https://${apiHost}:${proxy.port}`;
  env.objectsDir = path.join(dir, 'objects');
  const prepared = prepare ? await prepare(env) : {};
  const port = await freePort();
  const server = await startServer({
    bin,
    port,
    dir,
    env: {
      BETTER_AUTH_URL: env.apiOrigin,
      TRUSTED_ORIGINS: env.spaOrigin,
      COOKIE_SECURE: 'true',
      OBJECTS_DIR: env.objectsDir,
      ...prepared,
      ...serverEnv,
    },
  });
  defer(server.stop);
  env.server = server;
  proxy.setTarget(port);
  const chrome = await launchChromium(path.join(dir, 'chromium-profile'));
  defer(chrome.close);
  env.chrome = chrome;
  env.page = chrome.page;
  env.decisions = await recordCookieDecisions(chrome.context, chrome.page);
  defer(env.decisions.detach);
  // A new tab, as a click on a link in a mail client opens one.
  env.newTab = async (label) => {
    const page = await chrome.context.newPage();
    const decisions = await recordCookieDecisions(chrome.context, page);
    defer(decisions.detach);
    const tab = { label, page, decisions };
    env.tabs.push(tab);
    return tab;
  };
  env.spaUrl = `${env.spaOrigin}/?api=${encodeURIComponent(env.apiOrigin)}`;
  env.api = (method, p, body, opts) => env.page.evaluate(([m, pp, b, o]) => window.api(m, pp, b, o), [method, p, body, opts]);
  env.cookies = () => allCookies(chrome.browser);
  env.screenshot = async (label, page = env.page) => {
    const file = path.join(SHOTS, `${name}-${label}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    return file;
  };
  t.diagnostic(`${name}: Chromium ${chrome.version}; SPA ${env.spaOrigin}; API ${env.apiOrigin} -> http://127.0.0.1:${port}; ` +
    `${describe ? describe(env) + '; ' : ''}setup ${Date.now() - started} ms`);
  return env;
}

// packagedFunctions tells whether the server under test is the local
// gateway in front of the packaged Lambda functions (make test-lambda)
// rather than make dev's single process.
export function packagedFunctions(env) {
  return /adstudio local-lambda: listening/.test(env.server.output());
}
