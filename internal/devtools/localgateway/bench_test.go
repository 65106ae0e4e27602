package localgateway

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"adstudio/internal/app"
)

// BenchmarkColdStart measures each packaged function's cold start under
// RIE: from starting the aws-lambda-rie process to the answer of its first
// invocation (a GET /api/health event, every function's cheapest route:
// no database, no provider). That is RIE's own start, the bootstrap's exec
// and init (SDK config, app.New) and one invocation. Reported per
// function as the median over b.N fresh starts (cold-ms), with RIE's own
// INIT REPORT (init-ms), the bootstrap's size, and the ratio to a warm
// request through the gateway measured in the same run (the warm
// sub-benchmark, and the x-warm metric).
//
// Real Lambda adds sandbox creation and code download, which RIE does not
// model; see docs/local-lambda.md. Needs RIE_BIN (make bench provides
// it), and measures LAMBDA_DIST's functions, or builds them as make
// build-local does.
func BenchmarkColdStart(b *testing.B) {
	rie := needRIE(b)
	dist := lambdaDist(b)
	s := startServer(b, rie, dist, nil)
	warm := warmMedian(b, s.URL+"/api/health", 50)

	b.Run("warm", func(b *testing.B) {
		var samples []float64
		for range b.N {
			samples = append(samples, health(b, s.URL+"/api/health"))
		}
		b.ReportMetric(median(samples), "median-ms")
	})

	event, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /api/health", RawPath: "/api/health",
		Headers: map[string]string{"host": "127.0.0.1"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "GET /api/health", Stage: Stage, DomainName: "127.0.0.1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/api/health", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
	})
	for _, fn := range app.Functions() {
		cfg := s.Functions[fn].cfg
		cfg.Log, cfg.Verbose = nil, false
		st, err := os.Stat(filepath.Join(dist, string(fn), "bootstrap"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(fn), func(b *testing.B) {
			var cold, inits []float64
			for range b.N {
				ms, initMs := coldStart(b, cfg, event)
				cold, inits = append(cold, ms), append(inits, initMs)
			}
			b.ReportMetric(median(cold), "cold-ms")
			b.ReportMetric(median(inits), "init-ms")
			b.ReportMetric(median(cold)/warm, "x-warm")
			b.ReportMetric(float64(st.Size()), "bootstrap-bytes")
		})
	}
}

// coldStart starts a fresh RIE, invokes it once, and stops it: the time
// from process start to the answer, and RIE's INIT REPORT.
func coldStart(b *testing.B, cfg InstanceConfig, event []byte) (ms, initMs float64) {
	b.Helper()
	in, err := StartInstance(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := in.Invoke(b.Context(), event)
	elapsed := time.Since(in.Started())
	if err != nil {
		b.Fatal(err)
	}
	if res, err := DecodeResponse(out); err != nil || res.Status != 200 {
		b.Fatalf("cold health: %v %s", err, out)
	}
	initMs = <-in.InitDurations() // RIE logs it for every cold start
	return float64(elapsed.Microseconds()) / 1000, initMs
}

// warmMedian is the median time of a GET through the gateway to a warm
// function, after one request that warms it.
func warmMedian(b *testing.B, url string, n int) float64 {
	b.Helper()
	health(b, url)
	var samples []float64
	for range n {
		samples = append(samples, health(b, url))
	}
	return median(samples)
}

func health(b *testing.B, url string) float64 {
	b.Helper()
	start := time.Now()
	res, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	return float64(time.Since(start).Microseconds()) / 1000
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
