package session

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
)

// oldDecodeCache is decodeCache as it was before the fast readers: every
// document through encoding/json. The fast readers must accept nothing it
// refuses and decode everything exactly as it does.
func oldDecodeCache(signer cookie.Signer, raw string, now time.Time) (authdb.Session, authdb.User, bool) {
	var none authdb.Session
	raw = strings.TrimRight(raw, "=")
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(raw); err != nil {
			return none, authdb.User{}, false
		}
	}
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt json.Number     `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&outer) != nil || len(outer.Session) < 2 || outer.ExpiresAt == "" {
		return none, authdb.User{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(outer.Signature, "="))
	if err != nil || !signer.ValidMAC(signedBytes([]byte(outer.Session), outer.ExpiresAt.String()), sig) {
		return none, authdb.User{}, false
	}
	exp, err := outer.ExpiresAt.Int64()
	if err != nil || exp <= now.UnixMilli() {
		return none, authdb.User{}, false
	}
	var p cachePayload
	if json.Unmarshal(outer.Session, &p) != nil || p.Version != cacheVersion || !p.Session.ExpiresAt.After(now) {
		return none, authdb.User{}, false
	}
	return p.Session, p.User, true
}

// payloadNow is a moment at which the test payloads are current.
var payloadNow = time.Date(2026, 11, 24, 13, 32, 0, 0, time.UTC)

const (
	testSession = `{"id":"sid","token":"tok","userId":"uid","expiresAt":"2026-12-01T13:31:22.927Z","createdAt":"2026-11-24T13:31:22.927Z","updatedAt":"2026-11-24T13:31:22.927Z","ipAddress":"127.0.0.1","userAgent":"Mozilla/5.0"}`
	testUser    = `{"id":"uid","name":"Ann","email":"ann@example.com","emailVerified":false,"image":null,"createdAt":"2026-11-24T13:31:22.000Z","updatedAt":"2026-11-24T13:31:22.652Z"}`
)

// payloadVariants are signed payloads in the shapes the two servers write
// and in every odd shape encoding/json accepts or refuses.
func payloadVariants() []string {
	p := func(s, u, rest string) string {
		return `{"session":` + s + `,"user":` + u + rest + `}`
	}
	std := `,"updatedAt":1795527082928,"version":"1"`
	out := []string{
		p(testSession, testUser, std),
		// better-auth's key order, without image, with extra fields.
		`{"session":{"expiresAt":"2026-12-01T13:31:22.927Z","token":"AZrUF5X0","createdAt":"2026-11-24T13:31:22.927Z","updatedAt":"2026-11-24T13:31:22.927Z","ipAddress":"","userAgent":"","userId":"u1","id":"s1","impersonatedBy":null},"user":{"name":"Ann","email":"ann@example.com","emailVerified":true,"createdAt":"2026-11-24T13:31:22.652Z","updatedAt":"2026-11-24T13:31:22.652Z","id":"u1","role":"admin","banned":false,"meta":{"a":[1,2.5e3,-0,"x",{"b":null}],"c":true}},"updatedAt":1795527082928,"version":"1"}`,
		// Whitespace everywhere JSON allows it.
		" {\n\t\"session\" :\r" + testSession + " , \"user\": " + testUser + " ,\"updatedAt\" : 1 , \"version\" : \"1\" \n}",
		// Strings with escapes, unicode and invalid UTF-8.
		p(strings.Replace(testSession, `"Mozilla/5.0"`, `"Mo\"zi\\lla\/5.0 \u00e9\ud83d\ude00 \u2028"`, 1), strings.Replace(testUser, `"Ann"`, `"Zoë <b>&amp; 😀 \u003c"`, 1), std),
		p(testSession, strings.Replace(testUser, `"Ann"`, "\"bad \xff utf8 \xe2\x80\"", 1), std),
		p(testSession, strings.Replace(testUser, `"Ann"`, `"lone \ud800 surrogate"`, 1), std),
		p(testSession, strings.Replace(testUser, `"image":null`, `"image":"https://img.example/<a>&b"`, 1), std),
		p(testSession, strings.Replace(testUser, `"image":null`, `"image":"a\nb"`, 1), std),
		// Time shapes: offsets, no fraction, nanoseconds, lower-case t/z,
		// garbage, numbers, null.
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `"2026-12-01T15:31:22.927+02:00"`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `"2026-12-01T13:31:22Z"`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `"2026-12-01T13:31:22.123456789Z"`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `"2026-12-01t13:31:22.927z"`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `"2026-12-01 13:31:22"`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `1795527082928`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `null`, 1), testUser, std),
		p(strings.Replace(testSession, `"2026-12-01T13:31:22.927Z"`, `"2026-12-01T13:31:22.927\u005a"`, 1), testUser, std),
		p(testSession, strings.Replace(testUser, `"2026-11-24T13:31:22.000Z"`, `"2026-11-24T13:31:22.000-00:30"`, 1), std),
		p(testSession, strings.Replace(testUser, `"2026-11-24T13:31:22.000Z"`, `""`, 1), std),
		// Missing members and nulls.
		p(testSession, `{}`, std),
		p(testSession, `null`, std),
		p(`null`, testUser, std),
		p(`{}`, testUser, std),
		`{"session":` + testSession + std + `}`,
		`{"user":` + testUser + std + `}`,
		p(testSession, testUser, `,"updatedAt":null,"version":"1"`),
		p(testSession, testUser, `,"version":"1"`),
		p(testSession, testUser, `,"updatedAt":1`),
		p(strings.Replace(testSession, `"tok"`, `null`, 1), testUser, std),
		p(testSession, strings.Replace(testUser, `"image":null,`, ``, 1), std),
		p(testSession, strings.Replace(testUser, `false`, `null`, 1), std),
		// Wrong types.
		p(testSession, testUser, `,"updatedAt":1.5,"version":"1"`),
		p(testSession, testUser, `,"updatedAt":1e3,"version":"1"`),
		p(testSession, testUser, `,"updatedAt":-0,"version":"1"`),
		p(testSession, testUser, `,"updatedAt":99999999999999999999,"version":"1"`),
		p(testSession, testUser, `,"updatedAt":"1","version":"1"`),
		p(testSession, testUser, `,"updatedAt":1,"version":1`),
		p(testSession, testUser, `,"updatedAt":1,"version":"2"`),
		p(testSession, testUser, `,"updatedAt":1,"version":"\u0031"`),
		p(strings.Replace(testSession, `"tok"`, `42`, 1), testUser, std),
		p(testSession, strings.Replace(testUser, `false`, `"false"`, 1), std),
		p(testSession, strings.Replace(testUser, `false`, `0`, 1), std),
		p(testSession, strings.Replace(testUser, `"image":null`, `"image":5`, 1), std),
		p(`[]`, testUser, std),
		p(testSession, `"u"`, std),
		// Keys encoding/json matches without their exact spelling, and
		// repeated keys (the last wins there).
		`{"Session":` + testSession + `,"user":` + testUser + std + `}`,
		`{"SESSION":` + testSession + `,"USER":` + testUser + `,"UPDATEDAT":1,"VERSION":"1"}`,
		p(strings.Replace(testSession, `"token"`, `"Token"`, 1), testUser, std),
		p(strings.Replace(testSession, `"token"`, `"\u0074oken"`, 1), testUser, std),
		p(testSession, strings.Replace(testUser, `"emailVerified"`, `"emailverified"`, 1), std),
		p(testSession, strings.Replace(testUser, `"name"`, `"ſname"`, 1), std),
		p(testSession, strings.Replace(testUser, `"name"`, `"nameſ"`, 1), std),
		p(strings.Replace(testSession, `"token"`, `"to\u212aen"`, 1), testUser, std),
		p(strings.Replace(testSession, `"token":"tok"`, `"token":"tok","token":"other"`, 1), testUser, std),
		p(testSession, testUser, std+`,"version":"1"`),
		p(testSession, testUser, std+`,"session":`+testSession),
		p(testSession, strings.Replace(testUser, `"image":null`, `"image":null,"image":"x"`, 1), std),
		// Unknown members of every kind, valid and not.
		p(testSession, testUser, std+`,"x":[[],{},[{"y":[true,false,null]}]],"é":1`),
		p(testSession, testUser, std+`,"x":{"\u0041":1}`),
		p(testSession, testUser, std+`,"x":01`),
		p(testSession, testUser, std+`,"x":1.`),
		p(testSession, testUser, std+`,"x":.5`),
		p(testSession, testUser, std+`,"x":+1`),
		p(testSession, testUser, std+`,"x":1e`),
		p(testSession, testUser, std+`,"x":tru`),
		p(testSession, testUser, std+`,"x":nul`),
		p(testSession, testUser, std+`,"x":truex`),
		p(testSession, testUser, std+`,"x":"a`+"\x01"+`"`),
		p(testSession, testUser, std+`,"x":"\x"`),
		p(testSession, testUser, std+`,"x":"\u12"`),
		p(testSession, testUser, std+`,"x":[1,]`),
		p(testSession, testUser, std+`,"x":{"a":1,}`),
		p(testSession, testUser, std+`,"x":[`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`]`),
		p(testSession, testUser, std+`,`),
		p(testSession, testUser, std) + ` `,
		p(testSession, testUser, std) + `x`,
		`{}`,
		`[]`,
		`null`,
		``,
	}
	return out
}

// readPayloadFast reads a signed payload on its own, as readCookieFast
// reads it inside the cookie.
func readPayloadFast(p string) (cachePayload, bool) {
	var out cachePayload
	if p == "" || p[0] != '{' {
		return out, false
	}
	end, ok := readPayloadObject(p, 0, &out)
	return out, ok && end == len(p)
}

// checkPayload asserts that the fast reader, if it answers, agrees with
// encoding/json.
func checkPayload(t *testing.T, p string) {
	t.Helper()
	fast, ok := readPayloadFast(p)
	if !ok {
		return
	}
	var slow cachePayload
	if err := json.Unmarshal([]byte(p), &slow); err != nil {
		t.Fatalf("fast reader accepted what encoding/json refuses (%v):\n%q", err, p)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast reader disagrees:\n%q\n fast %+v\n slow %+v", p, fast, slow)
	}
}

// checkCookie does the same for the outer object.
func checkCookie(t *testing.T, doc string) {
	t.Helper()
	fast, ok := readCookieFast(doc)
	if !ok {
		return
	}
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt json.Number     `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&outer); err != nil {
		t.Fatalf("fast reader accepted what encoding/json refuses (%v):\n%q", err, doc)
	}
	if fast.payload != string(outer.Session) || fast.expiresAt != outer.ExpiresAt.String() || fast.signature != outer.Signature {
		t.Fatalf("fast reader disagrees:\n%q\n fast %+v\n slow %+v", doc, fast, outer)
	}
	if fast.ok {
		// The payload read on the way must be what reading it alone gives.
		var slow cachePayload
		if err := json.Unmarshal(outer.Session, &slow); err != nil || !reflect.DeepEqual(fast.parsed, slow) {
			t.Fatalf("payload read on the way disagrees (%v):\n%q\n fast %+v\n slow %+v", err, doc, fast.parsed, slow)
		}
	}
}

// mutations are p cut short at every length and with each byte replaced
// by a few that matter to JSON.
func mutations(p string) []string {
	var out []string
	for i := range len(p) {
		out = append(out, p[:i])
		for _, c := range []byte{'"', '\\', '}', ',', ':', ' ', 'x', '0', 0x01, 0xff} {
			b := []byte(p)
			b[i] = c
			out = append(out, string(b))
		}
	}
	return out
}

func TestReadPayloadFastAgreesWithEncodingJSON(t *testing.T) {
	variants := payloadVariants()
	for _, p := range variants {
		checkPayload(t, p)
	}
	for _, p := range variants[:4] {
		for _, m := range mutations(p) {
			checkPayload(t, m)
		}
	}
}

// signedCookie is a session_data value for payload (signed), with its outer
// object written by outer (given the payload, expiresAt and signature).
func signedCookie(signer cookie.Signer, payload, exp string, outer func(p, exp, sig string) string) string {
	sig := "AA"
	if len(payload) >= 2 {
		sig = base64.RawURLEncoding.EncodeToString(signer.MAC(signedBytes(payload, exp)))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(outer(payload, exp, sig)))
}

// outerShapes write the outer object in the servers' shape and in the odd
// ones encoding/json accepts or refuses.
var outerShapes = []func(p, exp, sig string) string{
	func(p, exp, sig string) string {
		return `{"session":` + p + `,"expiresAt":` + exp + `,"signature":"` + sig + `"}`
	},
	func(p, exp, sig string) string {
		return "\n {\"signature\" : \"" + sig + "\",\t\"expiresAt\":" + exp + ", \"session\" :" + p + "} trailing"
	},
	func(p, exp, sig string) string {
		return `{"x":[1,{"y":"z"}],"session":` + p + `,"expiresAt":` + exp + `,"signature":"` + sig + `=="}`
	},
	func(p, exp, sig string) string {
		return `{"Session":` + p + `,"expiresAt":` + exp + `,"signature":"` + sig + `"}`
	},
	func(p, exp, sig string) string {
		return `{"session":` + p + `,"expiresAt":"` + exp + `","signature":"` + sig + `"}`
	},
	func(p, exp, sig string) string {
		return `{"session":` + p + `,"expiresAt":` + exp + `,"signature":"` + sig + `","session":{}}`
	},
	func(p, exp, sig string) string {
		return `{"session":` + p + `,"expiresAt":` + exp + `.0,"signature":"` + sig + `"}`
	},
	func(p, exp, sig string) string {
		return `{"session":` + p + `,"expiresAt":` + exp + `,"signature":"\u` + strconv.FormatInt(int64(sig[0]), 16) + sig[1:] + `"}`
	},
	func(p, exp, sig string) string { return `{"session":` + p + `,"expiresAt":` + exp + `}` },
	func(p, exp, sig string) string { return `{"session":` + p + `,"expiresAt":` + exp + `,"signature":5}` },
	func(p, exp, sig string) string {
		return `{"session":null,"expiresAt":` + exp + `,"signature":"` + sig + `"}`
	},
}

func TestDecodeCacheAgreesWithEncodingJSON(t *testing.T) {
	signer := cookie.NewSigner([]string{vectorSecret})
	exp := strconv.FormatInt(payloadNow.Add(time.Minute).UnixMilli(), 10)
	check := func(raw string) {
		t.Helper()
		s, u, ok := decodeCache(signer, raw, payloadNow)
		os, ou, ook := oldDecodeCache(signer, raw, payloadNow)
		if ok != ook || !reflect.DeepEqual(s, os) || !reflect.DeepEqual(u, ou) {
			data, _ := base64.RawURLEncoding.DecodeString(raw)
			t.Fatalf("decodeCache differs from before for %q:\n now %v %+v %+v\n was %v %+v %+v", data, ok, s, u, ook, os, ou)
		}
	}
	accepted := 0
	for _, p := range payloadVariants() {
		for _, outer := range outerShapes {
			raw := signedCookie(signer, p, exp, outer)
			check(raw)
			if _, _, ok := decodeCache(signer, raw, payloadNow); ok {
				accepted++
			}
		}
	}
	if accepted < 50 {
		t.Fatalf("only %d variants accepted: the test no longer reaches the payload", accepted)
	}
	doc := `{"session":` + payloadVariants()[0] + `,"expiresAt":` + exp + `,"signature":"` +
		base64.RawURLEncoding.EncodeToString(signer.MAC(signedBytes(payloadVariants()[0], exp))) + `"}`
	for _, m := range mutations(doc) {
		checkCookie(t, m)
		check(base64.RawURLEncoding.EncodeToString([]byte(m)))
	}
	check(betterAuthCache)
}

// TestFastReadersReadBothServersCookies guards the speed: the cookies both
// servers write must not fall back to encoding/json.
func TestFastReadersReadBothServersCookies(t *testing.T) {
	data, err := base64.RawURLEncoding.DecodeString(betterAuthCache)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := readCookieFast(string(data))
	if !ok {
		t.Fatal("better-auth's cookie fell back to encoding/json")
	}
	if !c.ok {
		t.Fatal("better-auth's payload fell back to encoding/json")
	}

	signer := cookie.NewSigner([]string{vectorSecret})
	img := "https://img.example/<a>&b"
	for _, u := range []authdb.User{
		{ID: "uid", Name: "Ann", Email: "ann@example.com", CreatedAt: payloadNow, UpdatedAt: payloadNow},
		{ID: "uid", Name: "Zoë \"Z\" <\u2028> \x01 \xff", Email: "z@example.com", EmailVerified: true, Image: &img,
			CreatedAt: time.Unix(payloadNow.Unix(), 0), UpdatedAt: payloadNow.Add(123456789)},
	} {
		s := authdb.Session{ID: "sid", Token: "tok", UserID: "uid", ExpiresAt: payloadNow.Add(ExpiresIn),
			CreatedAt: payloadNow, UpdatedAt: payloadNow, IPAddress: "::1", UserAgent: "Go-http-client/1.1"}
		v, err := encodeCache(signer, s, u, payloadNow, payloadNow.Add(CacheMaxAge))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := base64.RawURLEncoding.DecodeString(v)
		c, ok := readCookieFast(string(data))
		if !ok {
			t.Fatalf("our cookie fell back to encoding/json: %s", data)
		}
		if !c.ok {
			t.Fatalf("our payload fell back to encoding/json: %s", c.payload)
		}
		gs, gu, ok := decodeCache(signer, v, payloadNow)
		os, ou, ook := oldDecodeCache(signer, v, payloadNow)
		if !ok || !ook || !reflect.DeepEqual(gs, os) || !reflect.DeepEqual(gu, ou) {
			t.Fatalf("round trip: %v %+v %+v, was %v %+v %+v", ok, gs, gu, ook, os, ou)
		}
	}
}

func FuzzReadPayload(f *testing.F) {
	for _, p := range payloadVariants() {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) { checkPayload(t, p) })
}

func FuzzReadCookie(f *testing.F) {
	for _, p := range payloadVariants()[:8] {
		for _, outer := range outerShapes {
			f.Add(outer(p, "1795527382928", "CvbMgNAbOhN5YK82EPFb-e4fIhtcbW7ZdJ0kN9nVYI0"))
		}
	}
	f.Fuzz(func(t *testing.T, doc string) { checkCookie(t, doc) })
}
