package localgateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/routes"
)

const spaOrigin = "http://localhost:5173"

// needRIE is the emulator's path; without it the test skips, or fails
// under CI. make test-go sets RIE_BIN (tests/lambda/rie.sh).
func needRIE(tb testing.TB) string {
	tb.Helper()
	return testenv.Tool(tb, "RIE_BIN", "the packaged-function tests need aws-lambda-rie (RIE_BIN=$(tests/lambda/rie.sh), as make test-go does)")
}

// The functions built for the host, once per test binary (TestMain
// removes them).
var built struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// lambdaDist is LAMBDA_DIST when set, else the four functions built for
// the host with the flags of make build-local.
func lambdaDist(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("LAMBDA_DIST"); d != "" {
		return d
	}
	built.once.Do(func() { built.dir, built.err = buildFunctions() })
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.dir
}

func buildFunctions() (string, error) {
	dir, err := os.MkdirTemp("", "localgateway-dist-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "out") + string(filepath.Separator)
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", out}
	for _, fn := range routes.Functions() {
		args = append(args, "./functions/"+string(fn))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join("..", "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return dir, fmt.Errorf("go build of the functions: %v\n%s", err, b)
	}
	for _, fn := range routes.Functions() {
		if err := os.MkdirAll(filepath.Join(dir, string(fn)), 0o755); err != nil {
			return dir, err
		}
		if err := os.Rename(filepath.Join(out, string(fn)), filepath.Join(dir, string(fn), "bootstrap")); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

// syncBuffer collects the gateway's output for failure reports.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer starts a gateway on a fresh database, in-process, with the
// environment the test suites give cmd/dev.
func startServer(tb testing.TB, rie, dist string, extra map[string]string) *Server {
	tb.Helper()
	dir := tb.TempDir()
	ports, err := freePorts(1)
	if err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{
		"PORT":               ports[0],
		"TURSO_DATABASE_URL": "file:" + filepath.Join(dir, "test.db"),
		"BETTER_AUTH_SECRET": "localgateway-test-secret-0123456789-abcdefghij",
		"TRUSTED_ORIGINS":    spaOrigin,
		"RATE_LIMIT_ENABLED": "false",
		"OBJECTS_DIR":        filepath.Join(dir, "objects"),
	}
	for k, v := range extra {
		env[k] = v
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	logs := &syncBuffer{}
	s, err := Start(tb.Context(), Options{
		Getenv: func(k string) string { return env[k] }, Environ: environ,
		Dist: dist, RIE: rie, Stdout: logs, Stderr: logs, Verbose: true,
	})
	if err != nil {
		tb.Fatalf("start: %v\n%s", err, logs)
	}
	tb.Cleanup(func() {
		s.Close()
		if tb.Failed() {
			tb.Logf("gateway output:\n%s", logs)
		}
	})
	return s
}

// client is a browser-like client of the SPA origin: cookie jar, Origin.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	// No client timeout: a slow machine makes the test slow, never failed.
	return &client{t: t, base: base, http: &http.Client{Jar: jar}}
}

func (c *client) do(method, path string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	status, h, b, err := c.try(method, path, body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, h, b
}

// try is do without failing the test, for requests sent from goroutines:
// they report back, and the test goroutine asserts.
func (c *client) try(method, path string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Origin", spaOrigin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

func (c *client) json(method, path string, body any, wantStatus int) map[string]any {
	c.t.Helper()
	status, _, b := c.do(method, path, body)
	if status != wantStatus {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, wantStatus)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
	return m
}

func (c *client) signUp(email string) {
	c.t.Helper()
	c.json("POST", "/api/auth/sign-up/email", map[string]string{"name": "L", "email": email, "password": "password123"}, 200)
	s := c.json("GET", "/api/auth/get-session", nil, 200)
	if u, _ := s["user"].(map[string]any); u["email"] != email {
		c.t.Fatalf("get-session after sign-up: %v", s)
	}
}

// TestPackagedFunctions runs the four packaged bootstraps under RIE behind
// the gateway: health, cookies across sign-up and get-session, a whole
// generation and its image, the asynchronous continuation of a slow one
// through the Invoke API, and the scheduled sweep event.
func TestPackagedFunctions(t *testing.T) {
	rie := needRIE(t)
	dist := lambdaDist(t)
	// The budget is short and the slow prompt longer, so the second
	// generation is handed off; the fake answers the first at once.
	s := startServer(t, rie, dist, map[string]string{"WORKFLOW_SYNC_BUDGET_MS": "5000"})
	c := newClient(t, s.URL)

	if h := c.json("GET", "/api/health", nil, 200); h["status"] != "ok" {
		t.Fatalf("health: %v", h)
	}
	status, hdr, body := c.do("GET", "/nowhere", nil)
	if status != 404 || string(body) != `{"message":"Not Found"}` || hdr.Get("Apigw-Requestid") == "" {
		t.Errorf("unrouted path: %d %s", status, body)
	}
	// A preflight goes to the auth function, which answers CORS itself.
	status, hdr, _ = c.do("OPTIONS", "/api/history", nil)
	if status != 204 || hdr.Get("Access-Control-Allow-Origin") != spaOrigin || hdr.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %d %v", status, hdr)
	}

	c.signUp("ann@example.com")
	if me := c.json("GET", "/api/me", nil, 200); me["email"] != "ann@example.com" && me["user"] == nil {
		t.Errorf("/api/me: %v", me)
	}

	// A generation, end to end: generate → history (another function) →
	// the image bytes through the asset route (base64 through the gateway).
	gen := c.json("POST", "/api/workflows/image-from-text", map[string]string{"prompt": "a red car on a beach"}, 200)
	id, _ := gen["generationId"].(string)
	if gen["status"] != "completed" || id == "" {
		t.Fatalf("generation: %v", gen)
	}
	item := c.json("GET", "/api/history/"+id, nil, 200)["item"].(map[string]any)
	signed, _ := item["assetUrl"].(string)
	if item["status"] != "succeeded" || !strings.HasPrefix(signed, s.URL+"/api/history/"+id+"/asset?exp=") {
		t.Errorf("history item: %v", item)
	}
	// The signed link opens without a cookie, as a new tab would open it.
	if res, err := http.Get(signed); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Errorf("signed asset link without a cookie: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	status, hdr, body = c.do("GET", "/api/history/"+id+"/asset", nil)
	if status != 200 || hdr.Get("Content-Type") != "image/png" {
		t.Fatalf("asset: %d %v", status, hdr)
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() == 0 {
		t.Errorf("asset is not a PNG: %v (%d bytes)", err, len(body))
	}
	list := c.json("GET", "/api/history", nil, 200)
	if items, _ := list["items"].([]any); len(items) != 1 {
		t.Errorf("history list: %v", list)
	}

	// A slow provider: 202 pending at the budget, then the generate
	// function's own asynchronous self-invocation (through the gateway's
	// Invoke API) finishes it. The request's job was abandoned at hand-off,
	// so only the continuation can complete it: the fake sees two calls.
	// The fake holds both until the test releases one, so the request
	// cannot finish inside its budget (a real 5 s timer in the function's
	// process, out of the test's reach) however fast the machine: the 202
	// is the only answer it can give. The request's own call reaches the
	// fake before that budget ends: the job makes it as soon as the credit
	// is reserved.
	b := newClient(t, s.URL)
	b.signUp("bob@example.com")
	calls := s.Fake.Calls()
	type answer struct {
		status int
		body   []byte
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		status, _, body, err := b.try("POST", "/api/workflows/image-from-text", map[string]string{"prompt": "a slow boat " + qwenfake.Hold})
		answered <- answer{status, body, err}
	}()
	first := <-s.Fake.Held()
	a := <-answered
	var pending map[string]any
	if a.err != nil || a.status != 202 || json.Unmarshal(a.body, &pending) != nil {
		t.Fatalf("slow generation: %d %s %v, want 202", a.status, a.body, a.err)
	}
	slowID, _ := pending["generationId"].(string)
	if pending["status"] != "pending" || slowID == "" || pending["statusUrl"] != "/api/history/"+slowID {
		t.Fatalf("slow generation: %v", pending)
	}
	// Both calls are held now or soon: the abandoned one ends when its
	// client goes away, the continuation's waits for its release.
	second := <-s.Fake.Held()
	continuation := second
	select {
	case <-first.Done():
	case <-second.Done():
		continuation = first
	}
	continuation.Release()
	// The released continuation finishes the generation; the test polls
	// for that outcome, which nothing can prevent any more. The pause only
	// paces the reads; no deadline decides.
	for {
		item := b.json("GET", "/api/history/"+slowID, nil, 200)["item"].(map[string]any)
		if item["status"] == "succeeded" {
			break
		}
		if item["status"] != "pending" {
			t.Fatalf("continued generation: %v", item)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := s.Fake.Calls() - calls; got != 2 {
		t.Errorf("provider calls for the slow generation: %d, want 2 (abandoned request + continuation)", got)
	}
	if first.ClientGone() == second.ClientGone() {
		t.Errorf("held calls: client gone %v and %v, want exactly one abandoned", first.ClientGone(), second.ClientGone())
	}
	if status, _, _ := b.do("GET", "/api/history/"+slowID+"/asset", nil); status != 200 {
		t.Errorf("continued generation's asset: %d", status)
	}

	// The schedule's sweep event, through the Invoke API.
	res, err := http.Post(s.URL+"/2015-03-31/functions/generate/invocations", "application/json", strings.NewReader(`{"adstudio":"sweep"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var swept struct {
		Swept *int `json:"swept"`
	}
	if res.StatusCode != 200 || json.Unmarshal(out, &swept) != nil || swept.Swept == nil || res.Header.Get("X-Amz-Function-Error") != "" {
		t.Errorf("sweep: %d %s", res.StatusCode, out)
	}
}

// A function whose configuration is bad fails its init; the gateway
// answers 500 as API Gateway does, and the next request gets a fresh
// environment.
func TestFunctionInitFailure(t *testing.T) {
	rie := needRIE(t)
	dist := lambdaDist(t)
	s := startServer(t, rie, dist, nil)
	f := s.Functions[routes.History]
	env := append([]string(nil), f.cfg.Env...)
	for i, kv := range env {
		if strings.HasPrefix(kv, "BETTER_AUTH_SECRET=") {
			env[i] = "BETTER_AUTH_SECRET=short"
		}
	}
	broken, err := StartFunction(routes.History, InstanceConfig{Name: "history", RIE: rie, Bootstrap: f.cfg.Bootstrap, Dir: f.cfg.Dir, Env: env, Log: f.cfg.Log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broken.Close)
	_, srv := newTestGateway(t, map[routes.Function]Invoker{routes.History: broken})
	for range 2 {
		res, err := http.Get(srv.URL + "/api/history")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 500 || string(b) != `{"message":"Internal Server Error"}` {
			t.Errorf("history with a failing init: %d %s", res.StatusCode, b)
		}
	}
	// No deadline: an error here must be the function's, not a context's.
	if _, err := broken.Invoke(t.Context(), []byte(`{}`)); err == nil || t.Context().Err() != nil {
		t.Errorf("invoking a function whose init fails: %v, want its error", err)
	}
}
