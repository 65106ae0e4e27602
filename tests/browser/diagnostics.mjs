// What the browser tests read back from a run: the exchanges the HTTPS proxy
// recorded (lookups, the Cookie and Set-Cookie headers), Chromium's own
// cookie decisions, and the dump printed when a test fails. The env these
// helpers take is the one setupStack (harness.mjs) returns.

import assert from 'node:assert/strict';

// Secure cookies carry better-auth's __Secure- prefix.
export const SESSION_COOKIE = '__Secure-better-auth.session_token';

// ---------------------------------------------------------------- exchanges

export function header(pairs, name) {
  const n = name.toLowerCase();
  const hit = (pairs || []).find(([k]) => k.toLowerCase() === n);
  return hit ? hit[1] : undefined;
}

export function formatExchange(e) {
  const lines = [`${e.method} ${e.url} -> ${e.status ?? '(no response)'}`];
  for (const [k, v] of e.reqHeaders || []) lines.push(`  > ${k}: ${v}`);
  if (e.reqBody) lines.push(`  > (body) ${e.reqBody}`);
  for (const [k, v] of e.resHeaders || []) lines.push(`  < ${k}: ${v}`);
  if (e.resBody !== undefined) lines.push(`  < (body) ${e.resBody.slice(0, 600)}`);
  if (e.error) lines.push(`  ! ${e.error}`);
  return lines.join('\n');
}

export function pathOf(u) {
  return new URL(u, 'https://x').pathname;
}

// The exchanges of a proxy's log from index `start` on with this method and
// path (any query).
export function exchangesSince(log, start, method, pathname) {
  return log.slice(start).filter((e) => e.method === method && pathOf(e.url) === pathname);
}

// The latest API exchange with this method and path; there must be one.
export function lastExchange(env, method, pathname) {
  const hits = exchangesSince(env.proxy.log, 0, method, pathname);
  assert.ok(hits.length, `no ${method} ${pathname} went through the proxy`);
  return hits[hits.length - 1];
}

export function one(list, what) {
  assert.equal(list.length, 1, `expected exactly one ${what}, got ${list.length}:\n${list.map(formatExchange).join('\n')}`);
  return list[0];
}

// ---------------------------------------------------------------- cookies

// The cookie names of an exchange's request Cookie header.
export function sentCookieNames(exchange) {
  const c = header(exchange.reqHeaders, 'cookie') || '';
  return c.split(';').map((s) => s.trim().split('=')[0]).filter(Boolean);
}

// The cookie names of an exchange's Set-Cookie lines.
export function setCookieNames(exchange) {
  return (exchange.setCookie || []).map((l) => l.split('=')[0]);
}

// The exchange's Set-Cookie line for cookie `name` (undefined if none).
export function setCookieLine(exchange, name) {
  return (exchange.setCookie || []).find((l) => l.startsWith(name + '='));
}

// A Set-Cookie line's name=value and its attributes, lower-case.
export function cookieAttrs(setCookieLine) {
  const [nv, ...attrs] = setCookieLine.split(';').map((s) => s.trim());
  return { nameValue: nv, attrs: attrs.map((a) => a.toLowerCase()) };
}

export function attrsOf(setCookieLine) {
  return cookieAttrs(setCookieLine).attrs;
}

// ---------------------------------------------------------------- answers

// A get-session answer with `email`'s user and a session of that user.
export function assertSessionUser(res, email, what) {
  assert.equal(res.status, 200, `${what}: ${JSON.stringify(res)}`);
  assert.equal(res.json?.user?.email, email, `${what}: ${res.text}`);
  assert.equal(res.json?.session?.userId, res.json.user.id, `${what}: ${res.text}`);
}

// ---------------------------------------------------------------- on failure

// Chromium's per-hop cookie decisions (recordCookieDecisions), without
// data: URLs and without headers (the proxied exchanges show those).
export function relevantHops(decisions) {
  return decisions.hops().filter((h) => h.url && !h.url.startsWith('data:'))
    .map(({ requestHeaders, responseHeaders, time, ...h }) => h);
}

// Runs fn; on failure, prints everything needed to tell a harness problem
// from a server problem: every proxied exchange (headers incl.
// Set-Cookie/Cookie) of the API and of env.otherProxies, Chromium's own
// cookie decisions per hop in the SPA tab and in each of env.tabs, the
// cookie store, the server output, env.dumps (e.g. the outbox, the OAuth
// fake's output) and screenshots. DEBUG_EXCHANGES=1 prints the exchanges
// and decisions on success too.
export async function withDiagnostics(env, fn) {
  try {
    await fn();
    if (process.env.DEBUG_EXCHANGES) {
      console.error(`\n===== ${env.name}: exchanges (DEBUG_EXCHANGES) =====`);
      for (const e of env.proxy.log) console.error(formatExchange(e));
      for (const { label, proxy } of env.otherProxies) {
        for (const e of proxy.log) console.error(`[${label}] ` + formatExchange(e));
      }
      console.error(JSON.stringify(relevantHops(env.decisions), null, 1));
    }
  } catch (err) {
    const cookies = await env.cookies().catch((e) => `unavailable: ${e}`);
    console.error(`\n===== ${env.name}: diagnostics =====`);
    console.error('--- proxied API exchanges ---');
    for (const e of env.proxy.log) console.error(formatExchange(e));
    for (const { label, proxy } of env.otherProxies) {
      console.error(`--- proxied ${label} exchanges ---`);
      for (const e of proxy.log) console.error(formatExchange(e));
    }
    console.error('--- Chromium cookie decisions per hop, SPA tab (DevTools Network domain) ---');
    console.error(JSON.stringify(relevantHops(env.decisions), null, 1));
    for (const tab of env.tabs) {
      console.error(`--- Chromium cookie decisions per hop, ${tab.label} tab (at ${tab.page.url()}) ---`);
      console.error(JSON.stringify(relevantHops(tab.decisions), null, 1));
    }
    console.error('--- Chromium cookie store ---');
    console.error(JSON.stringify(cookies, null, 1));
    console.error('--- server output (last 4000 chars) ---');
    console.error(env.server.output().slice(-4000));
    for (const { title, text } of env.dumps) {
      console.error(`--- ${title} ---`);
      try { console.error(text()); } catch (e) { console.error(`unavailable: ${e}`); }
    }
    console.error(`--- screenshot: ${await env.screenshot('failure')}`);
    for (const tab of env.tabs) console.error(`--- screenshot (${tab.label} tab): ${await env.screenshot(`failure-${tab.label}`, tab.page)}`);
    throw err;
  }
}
