// Test harness: starts the server under test on a free port with a fresh
// SQLite file, and builds better-auth clients that behave like a browser SPA
// on another origin (cookie jar + Origin header on every request).
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createAuthClient } from "better-auth/client";
import { CookieJar } from "./cookie-jar.mjs";

export const SPA_ORIGIN = "http://localhost:5173";
export const SECOND_SPA_ORIGIN = "http://127.0.0.1:5173";
export const UNTRUSTED_ORIGIN = "http://evil.example.com";
export const SECRET = "compat-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const COOKIE_PREFIX = "better-auth";
export const COOKIE = {
  sessionToken: `${COOKIE_PREFIX}.session_token`,
  sessionData: `${COOKIE_PREFIX}.session_data`,
  dontRemember: `${COOKIE_PREFIX}.dont_remember`,
};
export const PASSWORD = "password123";

/**
 * True when SERVER_BIN is the reference server (real better-auth with its memory
 * adapter), used only to validate this suite. The memory adapter omits `image`
 * instead of returning null; nothing else differs.
 */
export const IS_REFERENCE = /\.(mjs|cjs|js)$/.test(process.env.SERVER_BIN ?? "");

/** `YYYY-MM-DDTHH:mm:ss.sssZ` exactly (JavaScript Date.toJSON()). */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function uniqueEmail(tag = "user") {
  return `${tag}-${randomBytes(6).toString("hex")}@example.com`;
}

// Never leave a server behind, even if the test process ends abruptly.
const liveChildren = new Set();
process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
});

async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start the server under test. SERVER_BIN must point at the built binary (run.sh
 * builds it); a path ending in .mjs/.js is run with the current node instead.
 */
export async function startServer({ env = {}, readyTimeoutMs = 60_000 } = {}) {
  const bin = process.env.SERVER_BIN;
  if (!bin) throw new Error("SERVER_BIN is not set: run the suite through tests/compat/run.sh");
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "compat-"));
  const baseURL = `http://127.0.0.1:${port}`;
  const childEnv = {
    ...process.env,
    PORT: String(port),
    TURSO_DATABASE_URL: `file:${path.join(dir, "test.db")}`,
    BETTER_AUTH_SECRET: SECRET,
    BETTER_AUTH_URL: baseURL,
    TRUSTED_ORIGINS: `${SPA_ORIGIN},${SECOND_SPA_ORIGIN}`,
    RATE_LIMIT_ENABLED: "false",
    AUTH_SCHEMA: process.env.COMPAT_AUTH_SCHEMA || "users",
    COOKIE_PREFIX,
    // The SPA origin (localhost) is another site than the API (127.0.0.1),
    // which would default to SameSite=None; Secure cookies; the suite's
    // cookie jar speaks plain http, as better-auth's own default shape does.
    COOKIE_SAMESITE: "lax",
    ...env,
  };
  delete childEnv.FRONTEND_URL;
  delete childEnv.NODE_ENV;
  delete childEnv.TURSO_AUTH_TOKEN;
  delete childEnv.NODE_TEST_CONTEXT; // don't let a node child think it runs under the test runner
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];

  const isScript = /\.(mjs|cjs|js)$/.test(bin);
  const cmd = isScript ? process.execPath : bin;
  const args = isScript ? [bin] : [];
  const child = spawn(cmd, args, { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  liveChildren.add(child);
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  const exitPromise = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      liveChildren.delete(child);
      resolve(exited);
    }),
  );

  const deadline = Date.now() + readyTimeoutMs;
  let ready = false;
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      const r = await fetch(`${baseURL}/api/health`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) {
        ready = true;
        break;
      }
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  const server = {
    port,
    baseURL,
    authURL: `${baseURL}/api/auth`,
    dir,
    output: () => output,
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitPromise;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!ready) {
    await server.stop();
    throw new Error(
      `server did not become ready (${exited ? `exited ${JSON.stringify(exited)}` : "timeout"}):\n${output}`,
    );
  }
  if (!output.includes(`listening on http://127.0.0.1:${port}`)) {
    // Give stdout a moment to flush; the contract says this line is printed when ready.
    await sleep(200);
  }
  return server;
}

/**
 * A browser-like fetch: sends the jar's cookies and the given Origin on every
 * request, stores Set-Cookie, and remembers every exchange (raw body included)
 * so tests can inspect what went over the wire.
 */
export function browserFetch({ jar = new CookieJar(), origin = SPA_ORIGIN } = {}) {
  const exchanges = [];
  const f = async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (origin) headers.set("origin", origin);
    else headers.delete("origin");
    const cookie = jar.header();
    if (cookie) headers.set("cookie", cookie);
    else headers.delete("cookie");
    const res = await fetch(url, { ...init, headers, redirect: init.redirect ?? "manual" });
    const setCookies = res.headers.getSetCookie();
    jar.store(setCookies);
    const text = await res.clone().text();
    exchanges.push({
      url,
      method: (init.method || "GET").toUpperCase(),
      requestHeaders: headers,
      status: res.status,
      headers: res.headers,
      setCookies,
      text,
    });
    return res;
  };
  f.jar = jar;
  f.exchanges = exchanges;
  f.last = () => exchanges[exchanges.length - 1];
  return f;
}

/** A better-auth client (the real one from npm) wired to a browser-like fetch. */
export function makeClient(server, { jar = new CookieJar(), origin = SPA_ORIGIN } = {}) {
  const bfetch = browserFetch({ jar, origin });
  const client = createAuthClient({
    baseURL: server.baseURL,
    fetchOptions: { customFetchImpl: bfetch },
  });
  return { client, jar, fetch: bfetch, last: bfetch.last, exchanges: bfetch.exchanges };
}

/** A raw request to the server (no client), returning status, headers and body text/json. */
export async function raw(server, pathname, { method = "GET", headers = {}, body, origin = SPA_ORIGIN, jar } = {}) {
  const h = new Headers(headers);
  if (origin && !h.has("origin")) h.set("origin", origin);
  if (jar && jar.header() && !h.has("cookie")) h.set("cookie", jar.header());
  let payload = body;
  if (body !== undefined && typeof body !== "string") {
    payload = JSON.stringify(body);
    if (!h.has("content-type")) h.set("content-type", "application/json");
  }
  const res = await fetch(server.baseURL + pathname, { method, headers: h, body: payload, redirect: "manual" });
  const setCookies = res.headers.getSetCookie();
  if (jar) jar.store(setCookies);
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, setCookies, text, json };
}

/**
 * A request through node:http with exactly the given headers (Node's fetch adds
 * or overrides some, e.g. it forces Sec-Fetch-Mode: cors).
 */
export async function rawHttp(server, pathname, { method = "GET", headers = {}, body } = {}) {
  return await new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port: server.port, path: pathname, method, headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const sc = res.headers["set-cookie"] ?? [];
          resolve({ status: res.statusCode, headers: res.headers, setCookies: sc, text, json });
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** HMAC-SHA256(secret, value) in standard base64 (better-auth's cookie signature). */
export function sign(value, secret = SECRET) {
  return createHmac("sha256", secret).update(value, "utf8").digest("base64");
}

/**
 * Decode and verify a compact `session_data` cookie value (docs/auth-wire.md §5.3):
 * base64url(JSON {"session": payload, "expiresAt": ms, "signature": sig}) where
 * sig = base64url-nopad(HMAC-SHA256(secret, JSON(payload with ,"expiresAt":ms appended))).
 * Returns {payload, expiresAt, signatureValid}.
 */
export function decodeSessionData(wireValue, secret = SECRET) {
  const text = Buffer.from(decodeURIComponent(wireValue).replace(/=+$/, ""), "base64url").toString("utf8");
  const outer = JSON.parse(text);
  const prefix = '{"session":';
  const cut = text.lastIndexOf(',"expiresAt":');
  let signatureValid = false;
  if (text.startsWith(prefix) && cut > 0) {
    const member = text.slice(prefix.length, cut);
    const message = `${member.slice(0, -1)},"expiresAt":${outer.expiresAt}}`;
    const expected = createHmac("sha256", secret).update(message, "utf8").digest("base64url");
    signatureValid = expected === outer.signature;
  }
  return { payload: outer.session, expiresAt: outer.expiresAt, signature: outer.signature, signatureValid, keys: Object.keys(outer) };
}

/** Split a signed cookie value (percent-encoded on the wire) into {value, signature}. */
export function splitSigned(wireValue) {
  const decoded = decodeURIComponent(wireValue);
  const i = decoded.lastIndexOf(".");
  return { value: decoded.slice(0, i), signature: decoded.slice(i + 1) };
}

/** Find the Set-Cookie entry for `name` among raw Set-Cookie headers (last wins). */
export function findSetCookie(setCookies, name) {
  let found;
  for (const raw of setCookies) {
    const eq = raw.indexOf("=");
    if (raw.slice(0, eq).trim() === name) found = raw;
  }
  return found;
}

/** Sign up a fresh user through the client; asserts success. */
export async function signUpFresh(c, { name = "Test User", email = uniqueEmail(), password = PASSWORD, ...rest } = {}) {
  const res = await c.client.signUp.email({ name, email, password, ...rest });
  if (res.error) throw new Error(`sign-up failed: ${JSON.stringify(res.error)}`);
  return { ...res.data, email, password, name };
}

/** Plain object copy of a client error, without statusText (which clients must not depend on). */
export function errorShape(error) {
  if (!error) return error;
  const { statusText, ...rest } = error;
  return rest;
}

/**
 * Start Mailpit (a real SMTP server that keeps what it receives and shows it
 * through an HTTP API) on free loopback ports with its own database. MAILPIT_BIN
 * must point at the binary (run.sh provides it, installing it with
 * tests/mail/mailpit.sh outside CI). Returns once /readyz answers 200 and the
 * SMTP port accepts, or throws when it exits first.
 */
export async function startMailpit({ readyTimeoutMs = 60_000 } = {}) {
  const bin = process.env.MAILPIT_BIN;
  if (!bin) throw new Error("MAILPIT_BIN is not set: run the suite through tests/compat/run.sh");
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "compat-mailpit-"));
  const args = [
    "--smtp", `127.0.0.1:${smtpPort}`,
    "--listen", `127.0.0.1:${httpPort}`,
    "--database", path.join(dir, "mailpit.db"),
    // Nothing leaves the machine: no release check, no reverse DNS of the client.
    "--disable-version-check", "--smtp-disable-rdns",
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  liveChildren.add(child);
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  const exitPromise = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      liveChildren.delete(child);
      resolve(exited);
    }),
  );
  const api = `http://127.0.0.1:${httpPort}`;
  const mp = {
    smtpURL: `smtp://127.0.0.1:${smtpPort}`,
    api,
    output: () => output,
    /** The server environment that sends mail through this Mailpit. */
    env: {
      EMAIL_TRANSPORT: "smtp",
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      EMAIL_FROM: "AdDreams <noreply@example.com>",
    },
    async getJSON(pathname) {
      const r = await fetch(api + pathname);
      if (r.status !== 200) throw new Error(`mailpit GET ${pathname}: HTTP ${r.status}: ${await r.text()}`);
      return await r.json();
    },
    /** Summaries of every stored message, newest first: {ID, From, To:[{Name,Address}], Subject, …}. */
    async list() {
      const out = [];
      for (let start = 0; ; ) {
        const page = await mp.getJSON(`/api/v1/messages?start=${start}&limit=250`);
        out.push(...page.messages);
        start += page.messages.length;
        if (page.messages.length === 0 || start >= page.messages_count) return out;
      }
    },
    /** Summaries of the stored messages addressed to `to`. */
    async to(to) {
      const want = to.toLowerCase();
      return (await mp.list()).filter((m) => (m.To ?? []).some((a) => a.Address.toLowerCase() === want));
    },
    /** The full message (Text, HTML, headers as fields) of a summary's ID. */
    async message(id) {
      return await mp.getJSON(`/api/v1/message/${encodeURIComponent(id)}`);
    },
    /**
     * Poll until at least `count` messages to `to` are stored, and return them
     * in full (oldest first). Throws after timeoutMs: the mail never came.
     */
    async waitFor(to, { count = 1, timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = await mp.to(to);
        if (found.length >= count) {
          const full = [];
          for (const s of found.reverse()) full.push(await mp.message(s.ID));
          return full;
        }
        if (exited) throw new Error(`mailpit exited ${JSON.stringify(exited)}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${timeoutMs} ms (${found.length} of ${count})`);
        await sleep(50);
      }
    },
    /** Delete every stored message. */
    async clear() {
      const r = await fetch(`${api}/api/v1/messages`, { method: "DELETE" });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`mailpit DELETE /api/v1/messages: HTTP ${r.status}`);
    },
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitPromise;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) break;
    try {
      const r = await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200 && (await canConnect(smtpPort))) return mp;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  await mp.stop();
  throw new Error(`mailpit did not become ready (${exited ? `exited ${JSON.stringify(exited)}` : "timeout"}):\n${output}`);
}

async function canConnect(port) {
  return await new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}
