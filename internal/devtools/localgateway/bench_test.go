package localgateway

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"adstudio/internal/routes"
)

// BenchmarkColdStart measures each packaged function's cold start under
// RIE: from starting the aws-lambda-rie process to the answer of its first
// invocation (a GET /api/health event, every function's cheapest route:
// no database, no provider). That is RIE's own start, the bootstrap's exec
// and init (secrets, configuration, the function's construction) and one
// invocation. Reported per function as the median over b.N fresh starts
// (cold-ms), with RIE's own INIT REPORT (init-ms) and the bootstrap's size.
//
// The floor is a minimal aws-lambda-go bootstrap (testdata/floor) that
// answers the same event, built here with the functions' flags and started
// the same way in the same run; x-floor is each function's cold start over
// the floor's, the figure the functions are held to (≤ 1.3). The floor and
// the functions are started in turn, so drift in the machine affects all
// alike.
//
// Real Lambda adds sandbox creation and code download, which RIE does not
// model; see docs/local-lambda.md. Needs RIE_BIN (make bench provides
// it), and measures LAMBDA_DIST's functions, or builds them as make
// build-local does.
func BenchmarkColdStart(b *testing.B) {
	rie := needRIE(b)
	dist := lambdaDist(b)
	s := startServer(b, rie, dist, nil)
	floor := buildFloor(b)

	event, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /api/health", RawPath: "/api/health",
		Headers: map[string]string{"host": "127.0.0.1"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "GET /api/health", Stage: Stage, DomainName: "127.0.0.1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/api/health", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1"},
		},
	})
	for _, fn := range routes.Functions() {
		cfg := s.Functions[fn].cfg
		cfg.Log, cfg.Verbose = nil, false
		floorCfg := cfg
		floorCfg.Name, floorCfg.Bootstrap, floorCfg.Dir = "floor", floor, filepath.Dir(floor)
		st, err := os.Stat(filepath.Join(dist, string(fn), "bootstrap"))
		if err != nil {
			b.Fatal(err)
		}
		fst, err := os.Stat(floor)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(fn), func(b *testing.B) {
			var cold, inits, floors []float64
			for range b.N {
				fms, _ := coldStart(b, floorCfg, event)
				ms, initMs := coldStart(b, cfg, event)
				floors, cold, inits = append(floors, fms), append(cold, ms), append(inits, initMs)
			}
			b.ReportMetric(median(cold), "cold-ms")
			b.ReportMetric(median(floors), "floor-ms")
			b.ReportMetric(median(cold)/median(floors), "x-floor")
			b.ReportMetric(median(inits), "init-ms")
			b.ReportMetric(float64(st.Size()), "bootstrap-bytes")
			b.ReportMetric(float64(fst.Size()), "floor-bytes")
		})
	}
}

// buildFloor builds testdata/floor as make build-local builds the
// functions.
func buildFloor(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", out, "./testdata/floor")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build the floor: %v\n%s", err, msg)
	}
	return out
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
