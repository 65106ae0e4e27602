// A minimal browser-like cookie jar for a single host (127.0.0.1).
// Honours Set-Cookie: overwrite by name, Max-Age<=0 (or an Expires in the past)
// deletes, and produces the Cookie request header.

/** Parse one Set-Cookie header value into {name, value, attrs, raw}. */
export function parseSetCookie(raw) {
  const parts = raw.split(";");
  const first = parts.shift();
  const eq = first.indexOf("=");
  const name = (eq < 0 ? first : first.slice(0, eq)).trim();
  const value = eq < 0 ? "" : first.slice(eq + 1).trim();
  const attrs = {};
  const attrOrder = [];
  for (const p of parts) {
    const i = p.indexOf("=");
    const key = (i < 0 ? p : p.slice(0, i)).trim().toLowerCase();
    if (!key) continue;
    const val = i < 0 ? true : p.slice(i + 1).trim();
    attrs[key] = val;
    attrOrder.push(key);
  }
  const maxAge = attrs["max-age"] === undefined ? undefined : Number(attrs["max-age"]);
  const expires = typeof attrs.expires === "string" ? Date.parse(attrs.expires) : undefined;
  return {
    raw,
    name,
    value,
    attrs,
    attrOrder,
    maxAge,
    expires,
    path: attrs.path,
    httpOnly: attrs.httponly === true,
    secure: attrs.secure === true,
    sameSite: typeof attrs.samesite === "string" ? attrs.samesite : undefined,
  };
}

export class CookieJar {
  constructor() {
    /** @type {Map<string, ReturnType<typeof parseSetCookie>>} */
    this.cookies = new Map();
  }

  /** Apply the Set-Cookie headers of one response, in order. */
  store(setCookieHeaders) {
    for (const raw of setCookieHeaders) {
      const c = parseSetCookie(raw);
      if (!c.name) continue;
      const expired =
        (c.maxAge !== undefined && !Number.isNaN(c.maxAge) && c.maxAge <= 0) ||
        (c.maxAge === undefined && c.expires !== undefined && c.expires <= Date.now());
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c);
    }
  }

  /** Value of the Cookie request header, or "" if the jar is empty. */
  header() {
    return [...this.cookies.values()].map((c) => `${c.name}=${c.value}`).join("; ");
  }

  get(name) {
    return this.cookies.get(name);
  }

  has(name) {
    return this.cookies.has(name);
  }

  names() {
    return [...this.cookies.keys()].sort();
  }

  clone() {
    const j = new CookieJar();
    for (const [k, v] of this.cookies) j.cookies.set(k, { ...v });
    return j;
  }

  clear() {
    this.cookies.clear();
  }
}
