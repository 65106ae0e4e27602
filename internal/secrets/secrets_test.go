package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"adstudio/internal/awsenv"
)

// fakeSSM speaks SSM's JSON protocol for GetParameters (the service cannot
// run here): POST with X-Amz-Target AmazonSSM.GetParameters. The Client it
// returns is the one Lambda uses, awsenv.GetParameters.
func fakeSSM(t *testing.T, store map[string]string, calls *atomic.Int32) Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" {
			t.Errorf("target %q", r.Header.Get("X-Amz-Target"))
		}
		calls.Add(1)
		var in struct {
			Names          []string
			WithDecryption bool
		}
		json.NewDecoder(r.Body).Decode(&in)
		if !in.WithDecryption || len(in.Names) > 10 {
			t.Errorf("request %+v", in)
		}
		type param struct{ Name, Value, Type string }
		out := struct {
			Parameters        []param
			InvalidParameters []string
		}{Parameters: []param{}, InvalidParameters: []string{}}
		for _, n := range in.Names {
			if v, ok := store[n]; ok {
				out.Parameters = append(out.Parameters, param{n, v, "SecureString"})
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")}
	return func(ctx context.Context, names []string) (map[string]string, []string, error) {
		return awsenv.GetParameters(ctx, cfg, srv.URL, names)
	}
}

func TestOverlay(t *testing.T) {
	store := map[string]string{"/adstudio/auth-secret": "s3cret-value-that-is-32-chars-long!", "/adstudio/db-token": "tok"}
	for i := range 12 {
		store[fmt.Sprintf("/adstudio/p%02d", i)] = fmt.Sprint("v", i)
	}
	var calls atomic.Int32
	c := fakeSSM(t, store, &calls)
	environ := []string{"BETTER_AUTH_SECRET_SSM=/adstudio/auth-secret", "TURSO_AUTH_TOKEN_SSM= /adstudio/db-token ", "PLAIN=x", "_SSM=ignored", "EMPTY_SSM="}
	for i := range 12 {
		environ = append(environ, fmt.Sprintf("P%02d_SSM=/adstudio/p%02d", i, i))
	}
	get, err := Overlay(context.Background(), Wanted(environ), func(k string) string { return "env:" + k }, c)
	if err != nil {
		t.Fatal(err)
	}
	if get("BETTER_AUTH_SECRET") != store["/adstudio/auth-secret"] || get("TURSO_AUTH_TOKEN") != "tok" || get("P11") != "v11" || get("PLAIN") != "env:PLAIN" || get("EMPTY") != "env:EMPTY" {
		t.Fatalf("overlay wrong: %q %q %q %q", get("BETTER_AUTH_SECRET"), get("TURSO_AUTH_TOKEN"), get("P11"), get("PLAIN"))
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d GetParameters calls for 14 parameters, want 2", n)
	}
	_, err = Overlay(context.Background(), map[string]string{"QWEN_API_KEY": "/adstudio/missing"}, func(string) string { return "" }, c)
	if err == nil || !strings.Contains(err.Error(), "/adstudio/missing") {
		t.Fatalf("missing parameter: %v", err)
	}
	if get, err := Overlay(context.Background(), nil, func(string) string { return "e" }, c); err != nil || get("X") != "e" {
		t.Fatal("no wanted parameters must not call SSM")
	}
}

func TestOverlayShares(t *testing.T) {
	// Two settings naming one parameter: it is asked for once.
	var asked [][]string
	c := func(_ context.Context, names []string) (map[string]string, []string, error) {
		asked = append(asked, names)
		return map[string]string{"/adstudio/shared": "v"}, nil, nil
	}
	get, err := Overlay(context.Background(), map[string]string{"A": "/adstudio/shared", "B": "/adstudio/shared"}, func(string) string { return "" }, c)
	if err != nil || get("A") != "v" || get("B") != "v" {
		t.Fatalf("%q %q %v", get("A"), get("B"), err)
	}
	if len(asked) != 1 || len(asked[0]) != 1 {
		t.Fatalf("asked %q", asked)
	}
}

func TestOverlayErrorsNameParametersNotValues(t *testing.T) {
	wanted := map[string]string{"A": "/adstudio/a", "B": "/adstudio/b"}
	failed := errors.New("ssm GetParameters: ThrottlingException: Rate exceeded (HTTP 400)")
	for _, c := range []struct {
		name   string
		client Client
		want   []string
	}{
		{"call fails", func(context.Context, []string) (map[string]string, []string, error) {
			return nil, nil, failed
		}, []string{"/adstudio/a, /adstudio/b", "ThrottlingException"}},
		{"invalid", func(context.Context, []string) (map[string]string, []string, error) {
			return map[string]string{"/adstudio/a": "value-a"}, []string{"/adstudio/b"}, nil
		}, []string{"no such parameter: /adstudio/b"}},
		{"not returned", func(context.Context, []string) (map[string]string, []string, error) {
			return map[string]string{"/adstudio/a": "value-a"}, nil, nil
		}, []string{"/adstudio/b (for B) was not returned"}},
	} {
		_, err := Overlay(context.Background(), wanted, func(string) string { return "" }, c.client)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), "value-a") {
			t.Errorf("%s: %q shows a value", c.name, err)
		}
	}
	if _, err := Overlay(context.Background(), wanted, func(string) string { return "" }, func(context.Context, []string) (map[string]string, []string, error) {
		return nil, nil, failed
	}); !errors.Is(err, failed) {
		t.Errorf("the call's error is not wrapped: %v", err)
	}
}
