// Package qwenfake is a local stand-in for DashScope's synchronous image
// endpoint, for tests. It checks requests the way the provider does (plus a
// few stricter checks that catch client regressions), answers with the
// provider's body shapes, and serves the result images itself as real PNGs,
// so the whole path from request to stored copy runs without the network.
//
// Failure scenarios are picked by markers in the prompt (see Moderation,
// Slow, Fail, …), so a test drives the fake through the app's public API
// without a side channel.
package qwenfake

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/qwen"
)

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	key string

	mu         sync.Mutex
	calls      int
	downloads  int
	lastBody   []byte
	lastHeader http.Header
	lastID     string
	results    map[string]*result

	bigOnce sync.Once
	big     []byte

	held      chan *Held    // requests stopped by the Hold marker
	closing   chan struct{} // closed by Close: held and slow requests end
	closeOnce sync.Once
}

// Held is a generation request stopped by the Hold marker. The fake
// answers it (as its other markers ask) once the test calls Release.
type Held struct {
	release     chan struct{}
	releaseOnce sync.Once
	done        chan struct{}
	clientGone  bool // written before done is closed
}

// Release lets the request go on to its answer. Calling it again, or after
// the client went away, does nothing.
func (h *Held) Release() { h.releaseOnce.Do(func() { close(h.release) }) }

// Done is closed once the fake is finished with the request: answered
// after Release, or given up because the client went away (or the fake
// closed). A test that must know an abandoned call is over waits on it.
func (h *Held) Done() <-chan struct{} { return h.done }

// ClientGone reports, once Done is closed, whether the request ended
// because its client went away (or the fake closed) before it was
// answered.
func (h *Held) ClientGone() bool {
	<-h.done
	return h.clientGone
}

// result is one served image.
type result struct {
	width, height int
	seed          uint64 // picks the colours
	mode          imageMode
	png           []byte // rendered on first download
}

// New starts a fake on a loopback port; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake on a loopback port outside a test: the local Lambda
// gateway (internal/devtools/localgateway) serves one to the packaged generate function
// when no real QWEN_API_KEY is set. The caller closes it.
func Start() *Server {
	var b [12]byte
	rand.Read(b[:])
	s := &Server{key: "sk-fake-" + hex.EncodeToString(b[:]), results: map[string]*result{},
		held: make(chan *Held), closing: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+qwen.GenerationPath, s.generate)
	mux.HandleFunc("GET /results/{file}", s.serveImage)
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the fake's base URL, to use as Config.BaseURL (QWEN_BASE_URL).
func (s *Server) URL() string { return s.srv.URL }

// APIKey is the only bearer key the fake accepts.
func (s *Server) APIKey() string { return s.key }

// Timeout is the provider timeout of Config: longer than go test lets a
// test binary run by default (10 minutes), so no test's outcome depends on
// how fast the fake answers. Tests of the timeout itself fire it with
// qwen.Client.AfterFunc, or set their own.
const Timeout = 15 * time.Minute

// Config is a client configuration pointing at the fake with its key, the
// default models and the Timeout above.
func (s *Server) Config() qwen.Config {
	return qwen.Config{
		APIKey: s.key, Region: qwen.DefaultRegion, BaseURL: s.srv.URL, Timeout: Timeout,
		ImageModel: qwen.DefaultImageModel, EditModel: qwen.DefaultEditModel,
	}
}

// Calls is the number of generation requests received, valid or not.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Downloads is the number of result-image GETs received.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// LastBody is the raw body of the last generation request (nil before any).
func (s *Server) LastBody() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.lastBody)
}

// LastHeader is the header of the last generation request.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHeader.Clone()
}

// LastRequestID is the request id of the last answer to a generation
// request (in its body or, for the header-request-id scenario, its header).
func (s *Server) LastRequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

// Held delivers each request the Hold marker stops, when it arrives: from
// then on the request is in flight at the provider, and it stays there
// until the test releases it or its client goes away. Receiving from it is
// how a test knows a call has reached the provider.
func (s *Server) Held() <-chan *Held { return s.held }

// Close stops the server. A later request fails to connect, which is the
// "connection refused" scenario. Held and slow requests still waiting are
// cut off, as a provider that goes away would.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.srv.Close()
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	a := answer{w: w, requestID: uuid.NewString()}
	s.mu.Lock()
	s.calls++
	s.lastBody = body
	s.lastHeader = r.Header.Clone()
	s.lastID = a.requestID
	s.mu.Unlock()

	if r.Header.Get("Authorization") != "Bearer "+s.key {
		a.error(&apiError{http.StatusUnauthorized, "InvalidApiKey", "Invalid API-key provided."})
		return
	}
	// Stricter than the provider is known to be (unverified): the client
	// sends application/json (docs/dashscope.md §4), so hold it to that.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		a.error(invalid("Content-Type must be application/json."))
		return
	}
	g, perr := parseRequest(body)
	if perr != nil {
		a.error(perr)
		return
	}
	sc, err := parseScenario(g.prompt)
	if err != nil {
		a.error(invalid("%s", err.Error()))
		return
	}
	a.idHeader = sc.idHeader

	if sc.hold {
		h := &Held{release: make(chan struct{}), done: make(chan struct{})}
		defer close(h.done) // after the answer, or the abort below
		if !s.hold(r, h) {
			// No answer: the client is gone, or the fake is closing and
			// cuts the connection as a provider that goes away would.
			h.clientGone = true
			panic(http.ErrAbortHandler)
		}
	}
	if sc.delay > 0 {
		select {
		case <-time.After(sc.delay):
		case <-r.Context().Done():
			return
		case <-s.closing:
			panic(http.ErrAbortHandler)
		}
	}
	switch {
	case sc.fail != nil:
		a.error(sc.fail)
		return
	case sc.raw == rawGatewayHTML:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
		return
	case sc.raw == rawNonJSON:
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "OK - this is not JSON")
		return
	case sc.raw == rawNoImages:
		a.json(http.StatusOK, map[string]any{"output": map[string]any{"choices": []any{}}})
		return
	}

	hash := fnv.New64a()
	hash.Write([]byte(g.prompt))
	images := make([]content, g.n)
	expires := time.Now().Add(24 * time.Hour).Unix()
	for i := range images {
		id := uuid.NewString()
		if sc.image != imageBroken {
			s.mu.Lock()
			s.results[id] = &result{width: g.width, height: g.height, seed: hash.Sum64() + uint64(i), mode: sc.image}
			s.mu.Unlock()
		}
		images[i] = content{Image: s.resultURL(sc.image, id, expires, g.width, g.height, hash.Sum64()+uint64(i))}
	}
	ok := success{
		Output: successOutput{
			Choices:    []choice{{FinishReason: "stop", Message: message{Role: "assistant", Content: images}}},
			TaskMetric: taskMetric{Total: g.n, Succeeded: g.n},
		},
		Usage: usage{ImageCount: g.n, Width: g.width, Height: g.height},
	}
	if sc.raw == rawJSONArray {
		a.json(http.StatusOK, []any{ok.withID(a)})
		return
	}
	a.json(http.StatusOK, ok.withID(a))
}

// resultURL is where result id can be fetched: the fake's own signed-looking
// URL, or what the scenario asks for instead.
func (s *Server) resultURL(mode imageMode, id string, expires int64, w, h int, seed uint64) string {
	query := fmt.Sprintf("?Expires=%d&OSSAccessKeyId=LTAIfake&Signature=%s", expires, strings.ReplaceAll(id, "-", ""))
	switch mode {
	case imagePrivateURL:
		return "http://169.254.169.254/latest/meta-data/" + id + ".png" + query
	case imageFileURL:
		return "file:///etc/passwd" + query
	case imageData:
		return "data:image/png;base64," + base64.StdEncoding.EncodeToString(gradientPNG(w, h, seed))
	case imageDataHTML:
		return "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(htmlPage))
	}
	return s.srv.URL + "/results/" + id + ".png" + query
}

// answer writes one response, with the request id in the body or, for the
// header-request-id scenario, in a header.
type answer struct {
	w         http.ResponseWriter
	requestID string
	idHeader  string
}

func (a answer) error(e *apiError) {
	body := map[string]any{}
	if e.code != "" {
		body["code"] = e.code
	}
	if e.message != "" {
		body["message"] = e.message
	}
	a.json(e.status, body)
}

// json writes v; a map gets the request id unless it goes in a header.
func (a answer) json(status int, v any) {
	if a.idHeader != "" {
		a.w.Header().Set(a.idHeader, a.requestID)
	} else if m, ok := v.(map[string]any); ok {
		m["request_id"] = a.requestID
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	a.w.Header().Set("Content-Type", "application/json")
	a.w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	a.w.WriteHeader(status)
	a.w.Write(b.Bytes())
}

// The success body of docs/dashscope.md §8, in the provider's key order.
type (
	success struct {
		Output    successOutput `json:"output"`
		Usage     usage         `json:"usage"`
		RequestID string        `json:"request_id,omitempty"`
	}
	successOutput struct {
		Choices    []choice   `json:"choices"`
		TaskMetric taskMetric `json:"task_metric"`
	}
	choice struct {
		FinishReason string  `json:"finish_reason"`
		Message      message `json:"message"`
	}
	message struct {
		Role    string    `json:"role"`
		Content []content `json:"content"`
	}
	content struct {
		Image string `json:"image"`
	}
	taskMetric struct {
		Total     int `json:"TOTAL"`
		Succeeded int `json:"SUCCEEDED"`
		Failed    int `json:"FAILED"`
	}
	usage struct {
		ImageCount int `json:"image_count"`
		Width      int `json:"width"`
		Height     int `json:"height"`
	}
)

// withID sets the body's request id unless it goes in a header.
func (s success) withID(a answer) success {
	if a.idHeader != "" {
		a.w.Header().Set(a.idHeader, a.requestID)
	} else {
		s.RequestID = a.requestID
	}
	return s
}

// hold stops r until the test releases it as h (true), or until its client
// goes away or the fake closes (false).
func (s *Server) hold(r *http.Request, h *Held) bool {
	select {
	case s.held <- h:
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
	select {
	case <-h.release:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}
