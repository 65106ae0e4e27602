package metrics_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/metrics"
)

func fixed() time.Time { return time.UnixMilli(1700000000123) }

// TestLineShape: the exact EMF line of a count with dimensions, of a
// duration without any, and an empty dimension value replaced.
func TestLineShape(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	e := &metrics.Emitter{W: &b, Function: "generate", Now: fixed}
	ctx := context.Background()
	e.Count(ctx, metrics.Generations, 1, metrics.Dim{metrics.DimWorkflow, "image-from-text"}, metrics.Dim{metrics.DimOutcome, metrics.OutcomeSucceeded})
	e.Duration(ctx, metrics.ProviderLatency, 1500*time.Microsecond)
	e.Count(ctx, metrics.ProviderErrors, 2, metrics.Dim{metrics.DimCode, ""})
	want := []string{
		`{"Generations":1,"Outcome":"succeeded","Workflow":"image-from-text","_aws":{"Timestamp":1700000000123,"CloudWatchMetrics":[{"Namespace":"Adstudio","Dimensions":[["Workflow","Outcome"],[]],"Metrics":[{"Name":"Generations","Unit":"Count"}]}]},"function":"generate"}`,
		`{"ProviderLatency":1.5,"_aws":{"Timestamp":1700000000123,"CloudWatchMetrics":[{"Namespace":"Adstudio","Dimensions":[[]],"Metrics":[{"Name":"ProviderLatency","Unit":"Milliseconds"}]}]},"function":"generate"}`,
		`{"Code":"unknown","ProviderErrors":2,"_aws":{"Timestamp":1700000000123,"CloudWatchMetrics":[{"Namespace":"Adstudio","Dimensions":[["Code"],[]],"Metrics":[{"Name":"ProviderErrors","Unit":"Count"}]}]},"function":"generate"}`,
	}
	if got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); !reflect.DeepEqual(got, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range want {
		checkEMF(t, []byte(l))
	}
}

// emf is an EMF line as CloudWatch reads it.
type emf struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
}

// checkEMF applies the rules of the EMF specification CloudWatch enforces
// (a line that breaks one is kept as a log line but yields no metric):
// every referenced dimension and metric is a top-level member, dimension
// values are non-empty strings, metric values are numbers, at most 30
// dimensions per set and 100 metrics per directive, known units.
func checkEMF(t *testing.T, line []byte) {
	t.Helper()
	var d emf
	var members map[string]any
	if err := json.Unmarshal(line, &d); err != nil {
		t.Fatalf("not JSON: %s", line)
	}
	json.Unmarshal(line, &members)
	if d.AWS.Timestamp <= 0 || len(d.AWS.CloudWatchMetrics) == 0 {
		t.Errorf("no timestamp or metrics: %s", line)
	}
	for _, set := range d.AWS.CloudWatchMetrics {
		if set.Namespace != metrics.Namespace || len(set.Dimensions) == 0 || len(set.Metrics) == 0 || len(set.Metrics) > 100 {
			t.Errorf("directive %+v", set)
		}
		for _, dims := range set.Dimensions {
			if len(dims) > 30 {
				t.Errorf("%d dimensions in a set", len(dims))
			}
			for _, name := range dims {
				if v, ok := members[name].(string); !ok || v == "" {
					t.Errorf("dimension %s = %#v: %s", name, members[name], line)
				}
			}
		}
		for _, m := range set.Metrics {
			if _, ok := members[m.Name].(float64); !ok {
				t.Errorf("metric %s = %#v: %s", m.Name, members[m.Name], line)
			}
			if m.Unit != "Count" && m.Unit != "Milliseconds" {
				t.Errorf("unit %q", m.Unit)
			}
		}
	}
}

// TestConcurrent: lines written from many goroutines at once stay whole
// (one valid EMF object per line) and none is lost.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	e := &metrics.Emitter{W: &b, Function: "auth"}
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				e.Count(context.Background(), metrics.SignInFailures, 1, metrics.Dim{metrics.DimMethod, metrics.MethodEmail}, metrics.Dim{metrics.DimReason, "invalid_credentials"})
			} else {
				e.Duration(context.Background(), metrics.InitDuration, time.Duration(i)*time.Millisecond, metrics.Dim{metrics.DimFunction, "auth"})
			}
		}()
	}
	wg.Wait()
	lines := 0
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		lines++
		checkEMF(t, sc.Bytes())
	}
	if lines != n {
		t.Errorf("%d lines, want %d", lines, n)
	}
}

// TestNil: a nil emitter, or one without a writer, does nothing and does
// not panic.
func TestNil(t *testing.T) {
	t.Parallel()
	var e *metrics.Emitter
	e.Count(context.Background(), metrics.Refunds, 1, metrics.Dim{metrics.DimWorkflow, "x"})
	e.Duration(context.Background(), metrics.ProviderLatency, time.Second)
	(&metrics.Emitter{}).Count(context.Background(), metrics.ColdStarts, 1)
}
