package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// fakeSSM speaks SSM's JSON protocol for GetParameters (the service cannot
// run here): POST with X-Amz-Target AmazonSSM.GetParameters.
func fakeSSM(t *testing.T, store map[string]string, calls *atomic.Int32) *ssm.Client {
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
	return ssm.New(ssm.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
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
