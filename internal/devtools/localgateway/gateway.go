package localgateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"adstudio/internal/routes"
)

// IntegrationTimeout is the HTTP API's fixed limit on a Lambda integration.
const IntegrationTimeout = 30 * time.Second

// MaxAsyncPayload is Lambda's limit for an asynchronous invocation's event.
const MaxAsyncPayload = 1 << 20

// Invoker runs one invocation of a function (Function, or a fake in
// tests).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Gateway is API Gateway (an HTTP API, payload format 2.0) and Lambda's
// Invoke API in front of the functions.
type Gateway struct {
	Router    *Router
	Functions map[routes.Function]Invoker
	// Scheme and Port the gateway is reached by (x-forwarded-* headers).
	Scheme, Port string
	Log          *slog.Logger
	// Timeout is the integration timeout (IntegrationTimeout when zero).
	Timeout time.Duration

	ctx    context.Context // ends at shutdown: background invocations stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewGateway builds a gateway for the app's route table.
func NewGateway(fns map[routes.Function]Invoker, port string, log *slog.Logger) (*Gateway, error) {
	keys, err := routes.GatewayRoutes()
	if err != nil {
		return nil, err
	}
	rt, err := NewRouter(keys)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Gateway{Router: rt, Functions: fns, Scheme: "http", Port: port, Log: log, ctx: ctx, cancel: cancel}, nil
}

// Shutdown stops background invocations and waits for them to return.
func (g *Gateway) Shutdown() {
	g.cancel()
	g.wg.Wait()
}

const invokePrefix = "/2015-03-31/functions/"

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, invokePrefix) {
		g.invokeAPI(w, r)
		return
	}
	g.httpAPI(w, r)
}

// httpAPI is the HTTP API: route, build the event, invoke, answer.
func (g *Gateway) httpAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := NewRequestID()
	answer := func(res Response, fn routes.Function) {
		res.Write(w, id)
		g.Log.Debug("request", "method", r.Method, "path", r.URL.Path, "function", string(fn), "status", res.Status, "ms", time.Since(start).Milliseconds())
	}
	if r.ContentLength > MaxRequestBody {
		answer(GatewayError(http.StatusRequestEntityTooLarge), "")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > MaxRequestBody {
		answer(GatewayError(http.StatusRequestEntityTooLarge), "")
		return
	}
	m, ok := g.Router.Match(r.Method, r.URL.Path)
	if !ok {
		answer(GatewayError(http.StatusNotFound), "")
		return
	}
	fn, ok := g.Functions[m.Function]
	if !ok {
		g.Log.Error("no function for route", "route", m.Key, "function", string(m.Function))
		answer(GatewayError(http.StatusInternalServerError), m.Function)
		return
	}
	ev := BuildEvent(r, Request{Match: m, Body: body, RequestID: id, Now: start, Scheme: g.Scheme, Port: g.Port})
	payload, err := json.Marshal(ev)
	if err != nil {
		g.Log.Error("encode event", "err", err)
		answer(GatewayError(http.StatusInternalServerError), m.Function)
		return
	}
	if len(payload) > MaxPayload {
		// Lambda refuses the invocation (RequestTooLargeException).
		g.Log.Warn("event over Lambda's 6 MB limit", "bytes", len(payload), "route", m.Key)
		answer(GatewayError(http.StatusRequestEntityTooLarge), m.Function)
		return
	}

	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	g.wg.Add(1)
	go func() {
		// On the gateway's context, not the client's: the invocation runs
		// to its end even if API Gateway stops waiting for it.
		defer g.wg.Done()
		out, err := fn.Invoke(g.ctx, payload)
		done <- result{out, err}
	}()
	timeout := g.Timeout
	if timeout == 0 {
		timeout = IntegrationTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		if res.err != nil {
			g.Log.Error("invocation failed", "route", m.Key, "function", string(m.Function), "err", res.err)
			status := http.StatusInternalServerError
			if errors.Is(res.err, context.DeadlineExceeded) {
				status = http.StatusServiceUnavailable
			}
			answer(GatewayError(status), m.Function)
			return
		}
		resp, err := DecodeResponse(res.out)
		if err != nil {
			g.Log.Error("function error", "route", m.Key, "function", string(m.Function), "err", err)
			answer(GatewayError(http.StatusInternalServerError), m.Function)
			return
		}
		answer(resp, m.Function)
	case <-timer.C:
		g.Log.Warn("integration timeout", "route", m.Key, "function", string(m.Function), "after", timeout)
		answer(GatewayError(http.StatusServiceUnavailable), m.Function)
	case <-r.Context().Done():
	}
}

// invokeAPI is Lambda's Invoke API, for the functions' own calls (the
// generate function's asynchronous self-invocation) and for tests. SigV4
// signatures are not checked.
func (g *Gateway) invokeAPI(w http.ResponseWriter, r *http.Request) {
	id := NewRequestID()
	w.Header().Set("X-Amzn-Requestid", id)
	rest := strings.TrimPrefix(r.URL.Path, invokePrefix)
	name, ok := strings.CutSuffix(rest, "/invocations")
	if !ok || r.Method != http.MethodPost || name == "" {
		lambdaError(w, http.StatusNotFound, "UnknownOperationException", "Unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	name = functionName(name)
	fn, ok := g.Functions[routes.Function(name)]
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("Function not found: arn:aws:lambda:us-east-1:%s:function:%s", AccountID, name))
		return
	}
	async := r.Header.Get("X-Amz-Invocation-Type") == "Event"
	limit := int64(MaxPayload)
	if async {
		limit = MaxAsyncPayload
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return
	}
	if int64(len(payload)) > limit {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "Event":
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			out, err := fn.Invoke(g.ctx, payload)
			if err == nil && isErrorOutput(out) {
				err = errors.New(truncate(out, 500))
			}
			if err != nil {
				g.Log.Error("asynchronous invocation failed", "function", name, "err", err)
				return
			}
			g.Log.Debug("asynchronous invocation", "function", name, "output", truncate(out, 200))
		}()
		w.WriteHeader(http.StatusAccepted)
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	default: // RequestResponse
		out, err := fn.Invoke(g.ctx, payload)
		if errors.Is(err, ErrTimedOut) {
			out = timeoutOutput(err)
			err = nil
		}
		if err != nil {
			g.Log.Error("invocation failed", "function", name, "err", err)
			lambdaError(w, http.StatusInternalServerError, "ServiceException", "The function could not be invoked: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		if isErrorOutput(out) {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
		}
		w.WriteHeader(http.StatusOK)
		w.Write(out)
	}
}

// functionName takes a name, a partial ARN (123456789012:function:name) or
// a full one, with or without a qualifier, as the Invoke API does.
func functionName(s string) string {
	if _, after, ok := strings.Cut(s, ":function:"); ok {
		s = after
	} else if strings.HasPrefix(s, "function:") {
		s = strings.TrimPrefix(s, "function:")
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}

// lambdaError answers in the Lambda API's error shape.
func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	kind := "User"
	if status >= 500 {
		kind = "Service"
	}
	json.NewEncoder(w).Encode(map[string]string{"Type": kind, "Message": msg})
}

func isErrorOutput(out []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil {
		return false
	}
	_, ok := probe["errorMessage"]
	return ok
}

func timeoutOutput(err error) []byte {
	b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "Sandbox.Timedout"})
	return b
}
