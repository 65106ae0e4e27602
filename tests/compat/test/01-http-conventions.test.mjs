// Raw HTTP conventions of the auth handler (docs/auth-wire.md §1, §3.3, §3.10)
// and the app routes /api/health, /api/me and CORS (docs/app-api.md §1, §3, §4,
// §6, §7).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ISO_MS, SPA_ORIGIN, UNTRUSTED_ORIGIN, UUID_V4, raw, startServer } from "../lib/harness.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

describe("server start-up", () => {
  it("prints 'listening on http://127.0.0.1:<PORT>' when ready", async () => {
    const line = `listening on http://127.0.0.1:${server.port}`;
    for (let i = 0; i < 20 && !server.output().includes(line); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(server.output().includes(line), `stdout/stderr so far:\n${server.output()}`);
  });
});

describe("auth handler basics", () => {
  it("GET /api/auth/ok answers 200 {ok:true} as JSON", async () => {
    const r = await raw(server, "/api/auth/ok");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(r.json, { ok: true });
  });

  it("GET /api/auth/error answers 200 text/html (no FRONTEND_URL configured)", async () => {
    const r = await raw(server, "/api/auth/error?error=state_mismatch");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    assert.ok(r.text.length > 0, "error page body must not be empty");
    assert.ok(r.text.includes("state_mismatch"), "the error code matching ^['A-Za-z0-9_-]+$ is shown");
  });

  it("unknown path under /api/auth answers 404 with an empty body and no Content-Type", async () => {
    for (const method of ["GET", "POST"]) {
      const r = await raw(server, "/api/auth/nope", { method });
      assert.equal(r.status, 404, `${method} /api/auth/nope`);
      assert.equal(r.text, "", `${method} /api/auth/nope body`);
      assert.equal(r.headers.get("content-type"), null, `${method} /api/auth/nope content-type`);
    }
  });

  it("a known path with the wrong method answers 404 with an empty body", async () => {
    const r = await raw(server, "/api/auth/sign-in/email");
    assert.equal(r.status, 404);
    assert.equal(r.text, "");
  });

  it("a trailing slash the route does not have answers 404", async () => {
    const r = await raw(server, "/api/auth/ok/");
    assert.equal(r.status, 404);
    assert.equal(r.text, "");
  });

  it("malformed JSON answers 400 BAD_REQUEST 'Invalid JSON in request body'", async () => {
    const r = await raw(server, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"email": "a@example.com", "password": ',
    });
    assert.equal(r.status, 400);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(r.json, { message: "Invalid JSON in request body", code: "BAD_REQUEST" });
  });

  it("a text/plain body answers 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const r = await raw(server, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"email":"a@example.com","password":"password123"}',
    });
    assert.equal(r.status, 415);
    assert.deepEqual(r.json, {
      message: 'Content-Type "text/plain" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json',
      code: "UNSUPPORTED_MEDIA_TYPE",
    });
  });

  it("POST /get-session without deferSessionRefresh answers 405 METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", async () => {
    const r = await raw(server, "/api/auth/get-session", { method: "POST", body: {} });
    assert.equal(r.status, 405);
    assert.deepEqual(r.json, {
      message: "POST method requires deferSessionRefresh to be enabled in session config",
      code: "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
    });
  });

  it("signed-out GET /get-session answers 200 with the literal body null and no-store caching", async () => {
    const r = await raw(server, "/api/auth/get-session");
    assert.equal(r.status, 200);
    assert.equal(r.text, "null");
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.match(r.headers.get("cache-control") ?? "", /no-store/);
    assert.deepEqual(r.setCookies, [], "no cookies touched");
  });

  it("session endpoints without a session answer 401 UNAUTHORIZED", async () => {
    for (const [method, path] of [
      ["GET", "/api/auth/list-sessions"],
      ["GET", "/api/auth/list-accounts"],
      ["POST", "/api/auth/update-user"],
      ["POST", "/api/auth/revoke-sessions"],
    ]) {
      const r = await raw(server, path, { method, body: method === "POST" ? { name: "x" } : undefined });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.deepEqual(r.json, { message: "Unauthorized", code: "UNAUTHORIZED" }, `${method} ${path}`);
    }
  });

  it("sign-up and sign-in accept application/x-www-form-urlencoded bodies", async () => {
    const email = `form-${Date.now()}@example.com`;
    const up = await raw(server, "/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ name: "Form User", email, password: "password123" }).toString(),
    });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.json.user.email, email);
    const inn = await raw(server, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password: "password123" }).toString(),
    });
    assert.equal(inn.status, 200, inn.text);
    assert.equal(inn.json.redirect, false);
    assert.equal(typeof inn.json.token, "string");
  });
});

describe("app routes", () => {
  it("GET /api/health answers 200 {status:'ok', service:'addreams-api', timestamp}", async () => {
    const r = await raw(server, "/api/health");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(Object.keys(r.json).sort(), ["service", "status", "timestamp"]);
    assert.equal(r.json.status, "ok");
    assert.equal(r.json.service, "addreams-api");
    assert.match(r.json.timestamp, ISO_MS);
    assert.ok(Math.abs(Date.parse(r.json.timestamp) - Date.now()) < 60_000, "timestamp is the current time");
  });

  it("GET /api/me without a session answers 401 with the normalized error shape", async () => {
    const r = await raw(server, "/api/me");
    assert.equal(r.status, 401);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(Object.keys(r.json).sort(), ["error", "requestId"]);
    assert.deepEqual(r.json.error, { code: "UNAUTHORIZED", message: "Authentication required." });
    assert.match(r.json.requestId, UUID_V4);
    const again = await raw(server, "/api/me");
    assert.notEqual(again.json.requestId, r.json.requestId, "a fresh requestId per 401");
  });
});

describe("CORS (docs/app-api.md §3)", () => {
  it("preflight from a trusted origin answers 204 with credentialed CORS headers", async () => {
    const r = await raw(server, "/api/auth/sign-in/email", {
      method: "OPTIONS",
      headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.equal(r.status, 204);
    assert.equal(r.text, "");
    assert.equal(r.headers.get("access-control-allow-origin"), SPA_ORIGIN);
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
    const methods = (r.headers.get("access-control-allow-methods") ?? "").split(",").map((s) => s.trim());
    assert.ok(methods.includes("POST") && methods.includes("GET"), `allow-methods: ${methods}`);
    const allowHeaders = (r.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    assert.ok(allowHeaders.split(",").map((s) => s.trim()).includes("content-type"), `allow-headers: ${allowHeaders}`);
  });

  it("preflight from an untrusted origin does not echo the origin", async () => {
    const r = await raw(server, "/api/auth/sign-in/email", {
      method: "OPTIONS",
      origin: UNTRUSTED_ORIGIN,
      headers: { "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
  });

  it("preflight to an unknown /api path is answered too", async () => {
    const r = await raw(server, "/api/does-not-exist", {
      method: "OPTIONS",
      headers: { "access-control-request-method": "GET" },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), SPA_ORIGIN);
  });

  it("actual responses carry Access-Control-Allow-Origin/Credentials for a trusted origin", async () => {
    for (const p of ["/api/auth/get-session", "/api/auth/ok", "/api/me", "/api/health"]) {
      const r = await raw(server, p);
      assert.equal(r.headers.get("access-control-allow-origin"), SPA_ORIGIN, p);
      assert.equal(r.headers.get("access-control-allow-credentials"), "true", p);
      assert.match(r.headers.get("vary") ?? "", /Origin/i, p);
    }
  });

  it("an untrusted origin gets no Access-Control-Allow-Origin but the request is still processed", async () => {
    const r = await raw(server, "/api/auth/ok", { origin: UNTRUSTED_ORIGIN });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ok: true });
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    assert.equal(r.headers.get("access-control-allow-credentials"), "true");
  });
});
