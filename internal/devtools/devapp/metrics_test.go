package devapp_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"adstudio/internal/metrics"
)

// metricLines is an io.Writer for a metrics.Emitter that the test reads
// back: each EMF line as the metric name, its value and its dimensions.
type metricLines struct{ syncBuffer }

// metric is one EMF line, reduced: name, value, dimension values (only
// those of the first dimension set, the detailed one) and whether the
// dimensionless total is published too.
type metric struct {
	name  string
	value float64
	dims  string
	total bool
}

// take returns the lines written since the last call.
func (m *metricLines) take(t *testing.T) []metric {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []metric
	sc := bufio.NewScanner(&m.buf)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON: %s", sc.Bytes())
		}
		var d struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		json.Unmarshal(sc.Bytes(), &d)
		if len(d.AWS.CloudWatchMetrics) != 1 || d.AWS.CloudWatchMetrics[0].Namespace != "Adstudio" || len(d.AWS.CloudWatchMetrics[0].Metrics) != 1 {
			t.Fatalf("EMF directive: %s", sc.Bytes())
		}
		set := d.AWS.CloudWatchMetrics[0]
		name := set.Metrics[0].Name
		v, _ := line[name].(float64)
		got := metric{name: name, value: v, total: len(set.Dimensions) == 2 && len(set.Dimensions[1]) == 0}
		for i, dim := range set.Dimensions[0] {
			if i > 0 {
				got.dims += ","
			}
			got.dims += dim + "=" + line[dim].(string)
		}
		if line["function"] != "dev" {
			t.Errorf("function property %v: %s", line["function"], sc.Bytes())
		}
		out = append(out, got)
	}
	m.buf.Reset()
	return out
}

// withoutLatency drops the one ProviderLatency line of a provider call
// (its value is the test clock's) after checking it is there, once, with
// its dimension.
func withoutLatency(t *testing.T, ms []metric) []metric {
	t.Helper()
	var out []metric
	n := 0
	for _, m := range ms {
		if m.name == metrics.ProviderLatency {
			n++
			if m.dims != "Workflow=image-from-text" || !m.total || m.value < 0 {
				t.Errorf("latency %+v", m)
			}
			continue
		}
		out = append(out, m)
	}
	if n != 1 {
		t.Errorf("%d ProviderLatency lines, want 1", n)
	}
	return out
}

// TestGenerationMetrics: a successful generation, one the provider refuses,
// one whose result cannot be stored, and a job lost and then swept each
// emit exactly their lines.
func TestGenerationMetrics(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	lines := &metricLines{}
	ts.app.SetMetrics(&metrics.Emitter{W: lines, Function: "dev", Now: ts.clock.Now})
	b := ts.browser()
	b.signUp(t, "metrics@example.com", "password123")
	lines.take(t) // sign-up is no sign-in

	gen := func(b *browser, prompt string, status int) {
		t.Helper()
		if r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload(prompt), nil); r.StatusCode != status {
			t.Fatalf("%s: %d %s", prompt, r.StatusCode, r.body)
		}
		ts.app.WaitJobs()
	}
	const wf = "Workflow=image-from-text"
	// Failures first: their credits come back for the success.
	gen(b, "mug [fake:internal]", 502)
	if got, want := withoutLatency(t, lines.take(t)), []metric{
		{metrics.ProviderErrors, 1, "Code=UPSTREAM_UNAVAILABLE", true},
		{metrics.Generations, 1, wf + ",Outcome=failed", true},
		{metrics.Refunds, 1, wf, true},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("provider failure: %+v, want %+v", got, want)
	}

	boom := errors.New("injected")
	ts.app.InjectFaults(func(step string) error {
		if step == "copy" {
			return boom
		}
		return nil
	})
	gen(b, "mug", 500)
	ts.app.InjectFaults(nil)
	if got, want := withoutLatency(t, lines.take(t)), []metric{
		{metrics.ResultCopyFailures, 1, "", false},
		{metrics.Generations, 1, wf + ",Outcome=failed", true},
		{metrics.Refunds, 1, wf, true},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("copy failure: %+v, want %+v", got, want)
	}

	gen(b, "mug", 200)
	if got, want := withoutLatency(t, lines.take(t)), []metric{
		{metrics.Generations, 1, wf + ",Outcome=succeeded", true},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("success: %+v, want %+v", got, want)
	}

	// A job that "died" after the debit emits nothing; the sweep that
	// finds it, once it is older than any job, counts it.
	ts.app.InjectFaults(func(step string) error {
		if step == "after-debit" {
			return boom
		}
		return nil
	})
	lost := ts.browser()
	lost.signUp(t, "lost@example.com", "password123")
	lines.take(t)
	gen(lost, "mug", 500)
	ts.app.InjectFaults(nil)
	if got := lines.take(t); len(got) != 0 {
		t.Errorf("lost job emitted %+v", got)
	}
	if ids, err := ts.app.Sweep(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("early sweep: %v %v", ids, err)
	}
	if got := lines.take(t); len(got) != 0 {
		t.Errorf("empty sweep emitted %+v", got)
	}
	ts.clock.Advance(time.Hour)
	if ids, err := ts.app.Sweep(t.Context()); err != nil || len(ids) != 1 {
		t.Fatalf("sweep: %v %v", ids, err)
	}
	if got, want := lines.take(t), []metric{{metrics.SweptGenerations, 1, "", false}}; !reflect.DeepEqual(got, want) {
		t.Errorf("sweep: %+v, want %+v", got, want)
	}
}

// TestSignInMetrics: a sign-in, a wrong password, an unknown email, and a
// refusal by the rate limit each emit their line; no line names the user.
func TestSignInMetrics(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	lines := &metricLines{}
	ts.app.SetMetrics(&metrics.Emitter{W: lines, Function: "dev", Now: ts.clock.Now})
	b := ts.browser()
	b.signUp(t, "signin@example.com", "password123")
	lines.take(t)

	b.signIn(t, "signin@example.com", "password123")
	if got, want := lines.take(t), []metric{{metrics.SignIns, 1, "Method=email", true}}; !reflect.DeepEqual(got, want) {
		t.Errorf("sign-in: %+v, want %+v", got, want)
	}
	ts.clock.Advance(time.Minute) // a fresh rate-limit window
	for _, body := range []map[string]any{
		{"email": "signin@example.com", "password": "wrong-password"},
		{"email": "nobody@example.com", "password": "password123"},
	} {
		if r := b.do(t, "POST", "/api/auth/sign-in/email", body, nil); r.StatusCode != 401 {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
	}
	failed := metric{metrics.SignInFailures, 1, "Method=email,Reason=invalid_credentials", true}
	if got, want := lines.take(t), []metric{failed, failed}; !reflect.DeepEqual(got, want) {
		t.Errorf("refused sign-ins: %+v, want %+v", got, want)
	}
	// better-auth's sign-in rule: 3 per 10 s per IP; the fourth is refused
	// before any lookup.
	b.do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": "x@example.com", "password": "password123"}, nil)
	if r := b.do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": "x@example.com", "password": "password123"}, nil); r.StatusCode != 429 {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	if got, want := lines.take(t), []metric{failed, {metrics.RateLimited, 1, "Scope=auth-strict", true}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rate limited: %+v, want %+v", got, want)
	}
}
