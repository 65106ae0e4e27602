// Starts the Go server under test (SERVER_BIN) on an existing SQLite file and
// talks to it over plain HTTP like a browser SPA on SPA_ORIGIN would.
import { spawn } from "node:child_process";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { COOKIE_PREFIX, SECRET, SPA_ORIGIN } from "./reference.mjs";

export async function freePort() {
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
 * Start SERVER_BIN with the contract's environment on `dbPath`, wait until
 * GET /api/health answers 200. Returns {baseURL, output(), stop()}.
 */
export async function startGoServer({ port, dbPath, authSchema, readyTimeoutMs = 60_000 }) {
  const bin = process.env.SERVER_BIN;
  if (!bin) throw new Error("SERVER_BIN is not set: run the suite through tests/dbcompat/run.sh");
  const baseURL = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PORT: String(port),
    TURSO_DATABASE_URL: `file:${dbPath}`,
    BETTER_AUTH_SECRET: SECRET,
    BETTER_AUTH_URL: baseURL,
    TRUSTED_ORIGINS: SPA_ORIGIN,
    RATE_LIMIT_ENABLED: "false",
    AUTH_SCHEMA: authSchema,
    COOKIE_PREFIX,
    // The SPA origin (localhost) is another site than the API (127.0.0.1),
    // which would default to SameSite=None; Secure cookies; the suite's
    // cookie jar speaks plain http, as better-auth's own default shape does.
    COOKIE_SAMESITE: "lax",
  };
  for (const k of ["NODE_ENV", "TURSO_AUTH_TOKEN", "FRONTEND_URL", "NODE_TEST_CONTEXT"]) delete env[k];

  // A .mjs/.js SERVER_BIN (reference/server.mjs, the suite's self-check) runs with this node.
  const isScript = /\.(mjs|cjs|js)$/.test(bin);
  const child = spawn(isScript ? process.execPath : bin, isScript ? [bin] : [], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  let exited = null;
  const exitPromise = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  child.on("error", (err) => {
    output += `\n[spawn error] ${err.message}`;
    exited ??= { code: null, signal: null, error: err.message };
  });

  const server = {
    baseURL,
    output: () => output,
    async stop() {
      if (!exited && child.pid) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitPromise;
        clearTimeout(t);
      }
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      const r = await fetch(`${baseURL}/api/health`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return server;
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  await server.stop();
  throw new Error(
    `Go server did not become ready (${exited ? `exited ${JSON.stringify(exited)}` : "timeout"}):\n${output}`,
  );
}

/** `name=value` pairs of Set-Cookie headers (attributes dropped), keyed by name. */
export function cookiesFrom(setCookies) {
  const out = {};
  for (const sc of setCookies) {
    const pair = sc.split(";")[0];
    const i = pair.indexOf("=");
    out[pair.slice(0, i).trim()] = pair.slice(i + 1);
  }
  return out;
}

export function cookieHeader(cookies, names = Object.keys(cookies)) {
  return names
    .filter((n) => cookies[n] !== undefined && cookies[n] !== "")
    .map((n) => `${n}=${cookies[n]}`)
    .join("; ");
}

/** One HTTP request to the Go server as the SPA would send it (Origin header, JSON). */
export async function http(baseURL, method, path, { body, cookie } = {}) {
  const headers = { origin: SPA_ORIGIN };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${baseURL}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual",
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, setCookies: res.headers.getSetCookie(), text, json };
}
