package devapp_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/routes"
)

// recorder is the Dispatcher of a test: it remembers what it was handed.
type recorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *recorder) Dispatch(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

// TestLambdaHandOff is the slow path as it runs on Lambda: past the sync
// budget the request answers 202 and the in-request job stops WITHOUT
// finishing (its environment would freeze); an asynchronous invocation
// (here: the same event through the Lambda handler) finishes the generation
// from its stored row. The fake holds every provider call until the test
// releases it, and the test ends the budget itself, so each step happens
// at a known point rather than after a guessed delay.
func TestLambdaHandOff(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	budget := endBudget(ts)
	rec := &recorder{}
	ts.app.SetDispatcher(rec)
	handler := lambdaentry.Handler(ts.app.Function(routes.Generate))
	// invoke runs one event through the handler on its own goroutine.
	invoke := func(ev json.RawMessage) <-chan error {
		done := make(chan error, 1)
		go func() {
			_, err := handler(t.Context(), ev)
			done <- err
		}()
		return done
	}
	for i, tc := range []struct {
		path string
		body map[string]any
	}{
		{"/api/workflows/image-from-text", spaTextPayload("mug " + qwenfake.Hold)},
		{"/api/workflows/image-from-reference", map[string]any{"prompt": "on marble " + qwenfake.Hold, "referenceImageUrl": pngDataURL(t)}},
	} {
		b := ts.browser()
		email := "handoff" + string(rune('a'+i)) + "@example.com"
		b.signUp(t, email, "password123")
		req := b.sendAsync("POST", tc.path, tc.body)
		abandoned := <-fake.Held() // the request's own provider call
		budget <- time.Time{}
		r := req.wait(t)
		if r.StatusCode != 202 {
			t.Fatalf("%s: %d %s", tc.path, r.StatusCode, r.body)
		}
		id := r.json(t)["generationId"].(string)
		// The hand-off cancelled the request's job: its provider call ends
		// unanswered, and the job returns. Only then can "it wrote nothing"
		// be asserted.
		if !abandoned.ClientGone() {
			t.Fatal("the abandoned provider call was answered")
		}
		ts.app.WaitJobs()
		if item := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any); item["status"] != "pending" {
			t.Fatalf("the abandoned job finished the generation: %v", item)
		}
		if d, f := invariant(t, ts, email); d != 1 || f != 0 {
			t.Fatalf("before continuation: %d/%d", d, f)
		}
		rec.mu.Lock()
		handed := rec.ids[len(rec.ids)-1]
		rec.mu.Unlock()
		if handed != id {
			t.Fatalf("dispatched %q, want %q", handed, id)
		}
		ev, _ := json.Marshal(map[string]string{"adstudio": "continue", "generationId": id})
		continued := invoke(ev)
		(<-fake.Held()).Release() // the continuation's provider call
		if err := <-continued; err != nil {
			t.Fatalf("continue: %v", err)
		}
		item := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)
		if item["status"] != "succeeded" || item["assetUrl"] == nil {
			t.Fatalf("after continuation: %v", item)
		}
		if d, f := invariant(t, ts, email); d != 1 || f != 0 {
			t.Fatalf("after continuation: %d/%d", d, f)
		}
		if strings.Contains(tc.path, "reference") && !strings.Contains(string(fake.LastBody()), `"image":"data:image/png;base64,`) {
			t.Fatalf("continuation lost the reference: %.200s", fake.LastBody())
		}
		// A duplicated delivery of the same event changes nothing: it
		// returns without calling the provider (a call would be held, and
		// arrive here first).
		calls := fake.Calls()
		duplicate := invoke(ev)
		select {
		case call := <-fake.Held():
			call.Release()
			<-duplicate
			t.Fatal("a duplicated delivery called the provider again")
		case err := <-duplicate:
			if err != nil {
				t.Fatal(err)
			}
		}
		if fake.Calls() != calls {
			t.Fatalf("provider calls %d, want %d", fake.Calls(), calls)
		}
	}
	// The schedule's sweep event goes through the same handler.
	out, err := handler(t.Context(), json.RawMessage(`{"adstudio":"sweep"}`))
	if err != nil || out.(map[string]any)["swept"] != 0 {
		t.Fatalf("sweep event: %v %v", out, err)
	}
	if _, err := handler(t.Context(), json.RawMessage(`{"adstudio":"bogus"}`)); err == nil {
		t.Fatal("unknown event accepted")
	}
}
