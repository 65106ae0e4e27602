package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflow"
	"adstudio/internal/objectstore"
	"adstudio/internal/qwen"
)

// generatorFunc is a qwen.Generator in one function.
type generatorFunc func() (qwen.Result, error)

func (g generatorFunc) Generate(context.Context, qwen.Request) (qwen.Result, error) { return g() }

// failingStore is an object store whose Put fails.
type failingStore struct{ err error }

func (s failingStore) Put(context.Context, string, string, []byte) error { return s.err }
func (failingStore) Get(context.Context, string, string) (*objectstore.Object, error) {
	return nil, objectstore.ErrNotFound
}
func (failingStore) Head(context.Context, string) (objectstore.Info, error) {
	return objectstore.Info{}, objectstore.ErrNotFound
}
func (failingStore) Delete(context.Context, string) error       { return nil }
func (failingStore) DeletePrefix(context.Context, string) error { return nil }
func (failingStore) PresignGet(context.Context, string, time.Duration) (string, error) {
	return "", errors.New("no")
}
func (failingStore) PresignPut(context.Context, string, string, int64, time.Duration) (objectstore.PresignedPut, error) {
	return objectstore.PresignedPut{}, errors.New("no")
}
func (failingStore) DeleteOlder(context.Context, string, time.Time) (int, error) { return 0, nil }

// TestFailureBodiesAndLogs: each failure path after the reservation stores
// (and answers) exactly the body it did when the engine built bodies by
// hand, now built by httpapi.ErrorBody, and logs its cause once.
func TestFailureBodiesAndLogs(t *testing.T) {
	t.Parallel()
	db, err := database.Open("file:"+filepath.Join(t.TempDir(), "gen.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Migrate(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	store := &gendb.Store{DB: db}

	var pngBytes bytes.Buffer
	png.Encode(&pngBytes, image.NewRGBA(image.Rect(0, 0, 2, 2)))
	pngURL := "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngBytes.Bytes())
	const id = "5d0c9a7e-1111-4222-8333-444455556666"

	for i, tc := range []struct {
		name    string
		gen     generatorFunc
		storage objectstore.Store
		status  int
		body    string
		cause   string // the logged err
	}{
		{
			name: "provider refused",
			gen: func() (qwen.Result, error) {
				return qwen.Result{}, &qwen.Error{Status: 502, Code: qwen.CodeRequestFailed, Message: "Image provider request failed.",
					ProviderCode: "Throttling", ProviderRequestID: "req-7", Err: errors.New("status 400")}
			},
			status: 502,
			body:   `{"error":{"code":"UPSTREAM_REQUEST_FAILED","message":"Image provider request failed.","providerCode":"Throttling","providerRequestId":"req-7"},"requestId":"` + id + `"}`,
			cause:  "qwen: UPSTREAM_REQUEST_FAILED: Image provider request failed. (provider code Throttling) [request req-7]: status 400",
		},
		{
			name:   "provider unreachable",
			gen:    func() (qwen.Result, error) { return qwen.Result{}, errors.New("dial tcp: connection refused") },
			status: 502,
			body:   `{"error":{"code":"UPSTREAM_UNAVAILABLE","message":"Failed to connect to image provider."},"requestId":"` + id + `"}`,
			cause:  "dial tcp: connection refused",
		},
		{
			name: "result not an image",
			gen: func() (qwen.Result, error) {
				return qwen.Result{Images: []string{"data:text/html;base64,PGh0bWw+"}, RequestID: "req-8"}, nil
			},
			storage: failingStore{},
			status:  502,
			body:    `{"error":{"code":"UPSTREAM_MALFORMED_RESPONSE","message":"Image provider returned an invalid response body.","providerRequestId":"req-8"},"requestId":"` + id + `"}`,
			cause:   `result image data:text/html: not a PNG, JPEG, GIF or WebP image (declared "text/html")`,
		},
		{
			name:    "storage failed",
			gen:     func() (qwen.Result, error) { return qwen.Result{Images: []string{pngURL}}, nil },
			storage: failingStore{err: errors.New("bucket unreachable")},
			status:  500,
			body:    `{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Internal server error."},"requestId":"` + id + `"}`,
			cause:   "store result image: bucket unreachable",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			userID := "u" + string(rune('a'+i))
			if err := db.Exec(ctx, `INSERT INTO "users" ("id", "email", "name") VALUES (?, ?, 'U')`, userID, userID+"@example.com"); err != nil {
				t.Fatal(err)
			}
			rec := gendb.Record{ID: "g-" + userID, UserID: userID, Workflow: workflow.TextToImage, InputJSON: "{}"}
			credits, err := store.Create(ctx, rec, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			rn := &Runner{Generations: store, Storage: tc.storage, Now: time.Now, CopyAttempts: 1, JobTimeout: time.Minute,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			res := rn.run(ctx, Job{RequestID: id, Generation: rec, Params: workflow.Params{Prompt: "p", N: 1}, Credits: credits, Generator: tc.gen})

			if res.Status != tc.status || string(res.Body) != tc.body {
				t.Errorf("answer %d %s\nwant   %d %s", res.Status, res.Body, tc.status, tc.body)
			}
			row, err := store.GetAny(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if row.Status != gendb.Failed || row.ResponseStatus != tc.status || row.ResponseJSON != tc.body {
				t.Errorf("row %s %d %s", row.Status, row.ResponseStatus, row.ResponseJSON)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %s", len(lines), logs.String())
			}
			var l map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
				t.Fatal(err)
			}
			if l["msg"] != "generation failed" || l["err"] != tc.cause || l["requestId"] != id || l["generationId"] != rec.ID || l["status"] != float64(tc.status) {
				t.Errorf("log line %s", lines[0])
			}
		})
	}
}
