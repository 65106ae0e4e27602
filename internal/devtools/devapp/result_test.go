package devapp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/jpeg"
	"image/png"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/devtools/objectstoretest"
	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/generation/gendb"
)

// userID is the id of the user with email.
func userID(t *testing.T, ts *testServer, email string) string {
	t.Helper()
	var uid string
	// The layout's own user table: "users" or "user".
	if err := ts.app.DB.QueryRow(t.Context(), `SELECT "id" FROM "`+string(ts.app.Config.AuthSchema)+`" WHERE "email" = ?`, email).Scan(&uid); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return uid
}

// storedFiles lists every file the local object store holds under prefix,
// sidecars included: after a generation fails or is deleted there must be
// none.
func storedFiles(t *testing.T, ts *testServer, prefix string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(ts.app.Config.ObjectsDir, filepath.FromSlash(prefix)), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

// TestResultImageRefused: a provider result that safefetch refuses, that
// cannot be downloaded, or that is not an image is the provider's failure:
// a 502 with the contract's upstream code, recorded on the row as the
// answer given, the credit refunded, nothing stored. Only a failed transfer
// is retried.
func TestResultImageRefused(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	const (
		unavailable = "UPSTREAM_UNAVAILABLE"
		malformed   = "UPSTREAM_MALFORMED_RESPONSE"
	)
	messages := map[string]string{
		unavailable: "Image provider is currently unavailable.",
		malformed:   "Image provider returned an invalid response body.",
	}
	for i, tc := range []struct {
		marker    string
		code      string
		downloads int // GETs the fake saw for the result
	}{
		{qwenfake.PrivateImageURL, malformed, 0},
		{qwenfake.FileImageURL, malformed, 0},
		{qwenfake.RedirectLoopImage, malformed, 4}, // the URL and 3 redirects, once
		{qwenfake.HugeImage, malformed, 1},
		{qwenfake.HTMLImage, malformed, 1},
		{qwenfake.SVGImage, malformed, 1},
		{qwenfake.DataHTMLImage, malformed, 0},
		{qwenfake.BrokenImage, unavailable, 3}, // 404 from the CDN, retried
		{qwenfake.DropImage, unavailable, 3},   // cut mid-body, retried
	} {
		t.Run(tc.marker, func(t *testing.T) {
			b := ts.browser()
			email := "result" + string(rune('a'+i)) + "@example.com"
			b.signUp(t, email, "password123")
			before := fake.Downloads()
			r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug "+tc.marker), nil)
			m := r.json(t)
			e, _ := m["error"].(map[string]any)
			if r.StatusCode != 502 || e["code"] != tc.code || e["message"] != messages[tc.code] || m["requestId"] == "" || e["providerRequestId"] != fake.LastRequestID() {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if got := fake.Downloads() - before; got != tc.downloads {
				t.Errorf("%d result downloads, want %d", got, tc.downloads)
			}
			var status, code, msg, respJSON string
			var respStatus int
			ts.app.DB.QueryRow(t.Context(), `SELECT g."status", g."error_code", g."error_message", g."response_status", g."response_json" FROM "generation" g JOIN "users" u ON u."id" = g."user_id" WHERE u."email" = ?`, email).
				Scan(&status, &code, &msg, &respStatus, &respJSON)
			if status != "failed" || code != tc.code || msg != messages[tc.code] || respStatus != 502 || respJSON != string(r.body) {
				t.Fatalf("generation row: %s %s %q %d %s", status, code, msg, respStatus, respJSON)
			}
			if d, f := invariant(t, ts, email); d != 1 || f != 1 {
				t.Fatalf("ledger: %d debits, %d refunds", d, f)
			}
			if files := storedFiles(t, ts, "users/"+userID(t, ts, email)); len(files) != 0 {
				t.Fatalf("stored for a refused result: %v", files)
			}
		})
	}
}

// TestResultStoredAsItsBytes: the stored type and key come from the bytes,
// not from the provider's Content-Type or the data URL's label, and the
// asset route serves them so.
func TestResultStoredAsItsBytes(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	for i, tc := range []struct {
		marker, ctype, ext string
		decode             func([]byte) error
	}{
		{qwenfake.MislabeledImage, "image/jpeg", "jpg", func(b []byte) error { _, err := jpeg.DecodeConfig(bytes.NewReader(b)); return err }},
		{qwenfake.DataImage, "image/png", "png", func(b []byte) error { _, err := png.DecodeConfig(bytes.NewReader(b)); return err }},
	} {
		b := ts.browser()
		b.signUp(t, "bytes"+string(rune('a'+i))+"@example.com", "password123")
		r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug "+tc.marker), nil)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tc.marker, r.StatusCode, r.body)
		}
		m := r.json(t)
		id := m["generationId"].(string)
		if tc.marker == qwenfake.DataImage {
			// The browser gets the stored copy, not megabytes of base64.
			if u := m["output"].(map[string]any)["images"].([]any)[0].(map[string]any)["url"]; !signedURL(u, "http://127.0.0.1:1/api/history/"+id+"/asset?exp=") {
				t.Errorf("%s: image URL %.80v", tc.marker, u)
			}
		}
		var key string
		ts.app.DB.QueryRow(t.Context(), `SELECT "r2_key" FROM "generation" WHERE "id" = ?`, id).Scan(&key)
		if !strings.HasSuffix(key, "/"+id+"/output."+tc.ext) {
			t.Errorf("%s: key %q", tc.marker, key)
		}
		a := b.do(t, "GET", "/api/history/"+id+"/asset", nil, nil)
		if a.StatusCode != 200 || a.Header.Get("Content-Type") != tc.ctype || a.Header.Get("Content-Disposition") != `inline; filename="`+id+`.`+tc.ext+`"` || tc.decode(a.body) != nil {
			t.Errorf("%s: asset %d Content-Type %q, Content-Disposition %q", tc.marker, a.StatusCode, a.Header.Get("Content-Type"), a.Header.Get("Content-Disposition"))
		}
	}
}

// TestAssetHeaders: every asset answer forbids sniffing and scripting, an
// image is inline under the generation's name, and an object that is not a
// raster image (kept before results were checked) is only ever a download.
func TestAssetHeaders(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	b := ts.browser()
	b.signUp(t, "headers@example.com", "password123")
	uid := userID(t, ts, "headers@example.com")
	id := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), nil).json(t)["generationId"].(string)

	// Rows from before this check, pointing at what a provider once answered.
	legacy := map[string]string{"text/html; charset=utf-8": "html", "image/svg+xml": "svg", "": "bin"}
	legacyIDs := map[string]string{}
	for ctype, ext := range legacy {
		gid := "legacy-" + ext
		key := "users/" + uid + "/generations/" + gid + "/output." + ext
		if err := ts.app.Storage.Put(t.Context(), key, ctype, []byte("<script>document.title='"+qwenfake.ScriptMarker+"'</script>")); err != nil {
			t.Fatal(err)
		}
		if err := ts.app.DB.Exec(t.Context(), `INSERT INTO "generation" ("id","user_id","workflow","status","input_json","r2_key","created_at","updated_at") VALUES (?,?,'image-from-text','succeeded','{}',?,1,1)`, gid, uid, key); err != nil {
			t.Fatal(err)
		}
		legacyIDs[ctype] = gid
	}

	secure := func(name string, r resp, disposition string) {
		t.Helper()
		nosniff, csp, cd := r.Header.Get("X-Content-Type-Options"), r.Header.Get("Content-Security-Policy"), r.Header.Get("Content-Disposition")
		if nosniff != "nosniff" || csp != "default-src 'none'; sandbox" || cd != disposition {
			t.Errorf("%s: %d nosniff=%q csp=%q disposition=%q, want %q", name, r.StatusCode, nosniff, csp, cd, disposition)
		}
	}
	asset := "/api/history/" + id + "/asset"
	inline := `inline; filename="` + id + `.png"`
	ok := b.do(t, "GET", asset, nil, nil)
	if ok.StatusCode != 200 || ok.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("asset: %d Content-Type %q", ok.StatusCode, ok.Header.Get("Content-Type"))
	}
	secure("200", ok, inline)
	if r := b.do(t, "GET", asset, nil, header{"Range": "bytes=0-7"}); r.StatusCode != 206 {
		t.Errorf("range: %d", r.StatusCode)
	} else {
		secure("206", r, inline)
	}
	if r := b.do(t, "GET", asset, nil, header{"If-None-Match": ok.Header.Get("ETag")}); r.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	} else {
		secure("304", r, inline)
	}
	if r := b.do(t, "GET", asset, nil, header{"Range": "bytes=999999999-"}); r.StatusCode != 416 {
		t.Errorf("unsatisfiable range: %d", r.StatusCode)
	} else {
		secure("416", r, inline)
	}

	for ctype, gid := range legacyIDs {
		r := b.do(t, "GET", "/api/history/"+gid+"/asset", nil, nil)
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/octet-stream" || !strings.Contains(string(r.body), qwenfake.ScriptMarker) {
			t.Errorf("legacy %q: %d Content-Type %q", ctype, r.StatusCode, r.Header.Get("Content-Type"))
		}
		secure("legacy "+ctype, r, `attachment; filename="`+gid+`.bin"`)
		if r := b.do(t, "GET", "/api/history/"+gid+"/asset", nil, header{"Range": "bytes=0-7"}); r.StatusCode != 206 || r.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("legacy %q range: %d Content-Type %q", ctype, r.StatusCode, r.Header.Get("Content-Type"))
		} else {
			secure("legacy range "+ctype, r, `attachment; filename="`+gid+`.bin"`)
		}
	}
}

// TestAssetHeadersOnRedirect: an image too large for a Lambda response is a
// presigned redirect, which carries the same headers and no body of ours.
func TestAssetHeadersOnRedirect(t *testing.T) {
	t.Parallel()
	gw := objectstoretest.Start(t, testenv.Tool(t, objectstoretest.BinEnv, objectstoretest.BinHow), "generations")
	ts, _ := newGenServer(t, map[string]string{
		"OBJECTS_DIR": "", "R2_ACCESS_KEY_ID": gw.Access, "R2_SECRET_ACCESS_KEY": gw.Secret,
		"R2_BUCKET": "generations", "S3_ENDPOINT": gw.Endpoint,
	})
	b := ts.browser()
	b.signUp(t, "redirect@example.com", "password123")
	r := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "poster " + qwenfake.BigImage}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	id := r.json(t)["generationId"].(string)
	a := b.do(t, "GET", "/api/history/"+id+"/asset", nil, nil)
	nosniff, csp, cd := a.Header.Get("X-Content-Type-Options"), a.Header.Get("Content-Security-Policy"), a.Header.Get("Content-Disposition")
	if a.StatusCode != 302 || !strings.HasPrefix(a.Header.Get("Location"), gw.Endpoint+"/generations/users/") || len(a.body) != 0 ||
		nosniff != "nosniff" || csp != "default-src 'none'; sandbox" || cd != `inline; filename="`+id+`.png"` {
		t.Fatalf("redirect: %d nosniff=%q csp=%q disposition=%q body %q", a.StatusCode, nosniff, csp, cd, a.body)
	}
}

// gate is a point a goroutine of the app under test stops at: it reports
// its arrival and waits to be let go. Cleanup lets go of everything, so a
// failed test never leaves a handler blocked (httptest's Close waits for
// handlers).
type gate struct {
	arrived chan struct{}
	release chan struct{}
	once    sync.Once
}

func newGate(t *testing.T) *gate {
	g := &gate{arrived: make(chan struct{}, 1), release: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

// stop is called by the app's goroutine.
func (g *gate) stop() {
	g.arrived <- struct{}{}
	<-g.release
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// wait blocks the test until something reached the gate. Nothing here
// times out: a hang is go test's timeout, whose goroutine dump shows where.
func (g *gate) wait() { <-g.arrived }

// TestDeleteRacesRunner: a DELETE that meets a generation in flight, where
// the runner stores its image and finishes after the delete removed the
// objects but before it removed the row. The runner must lose, take its
// object with it, and the credit must come back once. Run for the request's
// own job and for a Lambda continuation.
func TestDeleteRacesRunner(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"request", "continuation"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			ts, _ := newGenServer(t, nil)
			b := ts.browser()
			email := "race-" + path + "@example.com"
			b.signUp(t, email, "password123")
			uid := userID(t, ts, email)
			provided, objectsGone := newGate(t), newGate(t)
			ts.app.InjectFaults(func(step string) error {
				switch step {
				case "after-provider":
					provided.stop()
				case "delete-row":
					objectsGone.stop()
				}
				return nil
			})

			var id string
			var generated inFlight
			continued := make(chan error, 1)
			if path == "request" {
				generated = b.sendAsync("POST", "/api/workflows/image-from-text", spaTextPayload("mug"))
				provided.wait()
				ts.app.DB.QueryRow(t.Context(), `SELECT "id" FROM "generation" WHERE "user_id" = ?`, uid).Scan(&id)
			} else {
				id = "continued-generation"
				in, _ := json.Marshal(map[string]any{"requestId": "req-1", "prompt": "mug", "parameters": map[string]any{"prompt": "mug", "n": 1, "promptExtend": true, "watermark": false}})
				if _, err := ts.app.Generations.Create(t.Context(), gendb.Record{ID: id, UserID: uid, Workflow: "image-from-text", InputJSON: string(in)}, ts.clock.Now()); err != nil {
					t.Fatal(err)
				}
				go func() { continued <- ts.app.Continue(t.Context(), id) }()
				provided.wait()
			}

			deleted := b.sendAsync("DELETE", "/api/history/"+id, nil)
			objectsGone.wait()
			// The runner now stores its image and finishes, between the
			// delete's removal of the objects and of the row.
			provided.open()
			if path == "request" {
				if r := generated.wait(t); r.StatusCode != 404 || string(r.body) != `{"error":"History item not found."}` {
					t.Errorf("the request of a deleted generation answered %d %s", r.StatusCode, r.body)
				}
			} else if err := <-continued; err != nil {
				t.Errorf("continue: %v", err)
			}
			objectsGone.open()
			if r := deleted.wait(t); r.StatusCode != 200 {
				t.Fatalf("delete: %d %s", r.StatusCode, r.body)
			}

			if files := storedFiles(t, ts, "users/"+uid+"/generations/"+id); len(files) != 0 {
				t.Errorf("orphaned objects: %v", files)
			}
			var n int
			ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "generation" WHERE "id" = ?`, id).Scan(&n)
			if n != 0 {
				t.Errorf("the row outlived its delete")
			}
			if d, f := invariant(t, ts, email); d != 1 || f != 1 {
				t.Errorf("ledger: %d debits, %d refunds", d, f)
			}
		})
	}
}

// TestHandOffRacesDelete: on Lambda, a request past its budget keeps a data
// URL reference as an object for its continuation. A DELETE that ran just
// before must not leave that object behind, nor a continuation to run.
func TestHandOffRacesDelete(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	budget := endBudget(ts)
	rec := &recorder{}
	ts.app.SetDispatcher(rec)
	b := ts.browser()
	b.signUp(t, "handoff-race@example.com", "password123")
	uid := userID(t, ts, "handoff-race@example.com")
	handOff := newGate(t)
	ts.app.InjectFaults(func(step string) error {
		if step == "hand-off" {
			handOff.stop()
		}
		return nil
	})
	generated := b.sendAsync("POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "on marble " + qwenfake.Hold, "referenceImageUrl": pngDataURL(t)})
	<-fake.Held() // the job's provider call is in flight
	budget <- time.Time{}
	handOff.wait()
	var id string
	ts.app.DB.QueryRow(t.Context(), `SELECT "id" FROM "generation" WHERE "user_id" = ?`, uid).Scan(&id)
	if r := b.do(t, "DELETE", "/api/history/"+id, nil, nil); r.StatusCode != 200 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	handOff.open()
	if r := generated.wait(t); r.StatusCode != 202 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	ts.app.WaitJobs() // the abandoned job, cut off at the provider, is over
	if files := storedFiles(t, ts, "users/"+uid+"/generations/"+id); len(files) != 0 {
		t.Errorf("orphaned objects: %v", files)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.ids) != 0 {
		t.Errorf("a deleted generation was handed to a continuation: %v", rec.ids)
	}
	if d, f := invariant(t, ts, "handoff-race@example.com"); d != 1 || f != 1 {
		t.Errorf("ledger: %d debits, %d refunds", d, f)
	}
}

// TestDeleteRetriesAfterStorageFailure: when the objects cannot be removed
// the row stays, so the delete can be retried; an unfinished generation is
// refunded by the first attempt and not again by the retry.
func TestDeleteRetriesAfterStorageFailure(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	b := ts.browser()
	const email = "retry@example.com"
	b.signUp(t, email, "password123")
	uid := userID(t, ts, email)
	done := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), nil).json(t)["generationId"].(string)
	// A pending generation whose job died, with a kept reference.
	const pending = "pending-generation"
	if _, err := ts.app.Generations.Create(t.Context(), gendb.Record{ID: pending, UserID: uid, Workflow: "image-from-reference", InputJSON: "{}"}, ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	reference := "users/" + uid + "/generations/" + pending + "/reference"
	if err := ts.app.Storage.Put(t.Context(), reference, "image/png", []byte("png")); err != nil {
		t.Fatal(err)
	}

	ts.app.InjectFaults(func(step string) error {
		if step == "delete-objects" {
			return errors.New("storage is down")
		}
		return nil
	})
	for _, id := range []string{done, pending} {
		if r := b.do(t, "DELETE", "/api/history/"+id, nil, nil); r.StatusCode != 500 {
			t.Fatalf("delete %s with storage down: %d %s", id, r.StatusCode, r.body)
		}
		if files := storedFiles(t, ts, "users/"+uid+"/generations/"+id); len(files) == 0 {
			t.Fatalf("%s: objects gone although storage failed", id)
		}
	}
	statuses := map[string]string{}
	rows, err := ts.app.DB.Query(t.Context(), `SELECT "id", "status" FROM "generation" WHERE "user_id" = ?`, uid)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, st string
		rows.Scan(&id, &st)
		statuses[id] = st
	}
	rows.Close()
	if statuses[done] != "succeeded" || statuses[pending] != "failed" {
		t.Fatalf("rows after a failed delete: %v", statuses)
	}
	if d, f := invariant(t, ts, email); d != 2 || f != 1 {
		t.Fatalf("ledger after a failed delete: %d debits, %d refunds", d, f)
	}

	ts.app.InjectFaults(nil)
	for _, id := range []string{done, pending} {
		if r := b.do(t, "DELETE", "/api/history/"+id, nil, nil); r.StatusCode != 200 {
			t.Fatalf("retry %s: %d %s", id, r.StatusCode, r.body)
		}
		if files := storedFiles(t, ts, "users/"+uid+"/generations/"+id); len(files) != 0 {
			t.Errorf("%s: objects left: %v", id, files)
		}
	}
	var n int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "generation" WHERE "user_id" = ?`, uid).Scan(&n)
	if d, f := invariant(t, ts, email); n != 0 || d != 2 || f != 1 {
		t.Fatalf("after the retries: %d rows, ledger %d debits, %d refunds", n, d, f)
	}
	if ps, ag := b.balance(t); ps != 0 || ag != 1 {
		t.Fatalf("balances after the retries: %d %d", ps, ag)
	}
}
