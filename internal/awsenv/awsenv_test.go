package awsenv

import (
	"context"
	"strings"
	"testing"
)

// env is a getenv over a fixed map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfig(t *testing.T) {
	lambdaEnv := map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-value", "AWS_SESSION_TOKEN": "token-value",
	}
	cfg, err := Config(env(lambdaEnv))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("region %q, want AWS_REGION's", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret-value" || creds.SessionToken != "token-value" {
		t.Errorf("credentials %+v", creds)
	}
	if cfg.Retryer == nil || cfg.Retryer().MaxAttempts() != 3 {
		t.Error("want the standard retryer's 3 attempts")
	}

	// The local gateway: AWS_DEFAULT_REGION only matters without AWS_REGION,
	// and there is no session token.
	cfg, err = Config(env(map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}))
	if err != nil || cfg.Region != "us-east-1" {
		t.Fatalf("AWS_DEFAULT_REGION: %q, %v", cfg.Region, err)
	}
	if creds, _ := cfg.Credentials.Retrieve(context.Background()); creds.SessionToken != "" {
		t.Errorf("session token %q", creds.SessionToken)
	}

	for _, c := range []struct {
		drop []string
		want []string
	}{
		{[]string{"AWS_REGION", "AWS_DEFAULT_REGION"}, []string{"AWS_REGION (or AWS_DEFAULT_REGION)"}},
		{[]string{"AWS_ACCESS_KEY_ID"}, []string{"AWS_ACCESS_KEY_ID"}},
		{[]string{"AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"}, []string{"AWS_REGION", "AWS_SECRET_ACCESS_KEY"}},
	} {
		m := map[string]string{}
		for k, v := range lambdaEnv {
			m[k] = v
		}
		for _, k := range c.drop {
			delete(m, k)
		}
		_, err := Config(env(m))
		if err == nil {
			t.Errorf("without %v: no error", c.drop)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("without %v: %q does not name %s", c.drop, err, w)
			}
		}
		for _, v := range lambdaEnv {
			if strings.Contains(err.Error(), v) {
				t.Errorf("without %v: %q shows a value", c.drop, err)
			}
		}
	}
}

func TestEndpoint(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		service string
		want    string
	}{
		{"service variable first", map[string]string{"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL": "http://other", "AWS_REGION": "eu-west-1"}, "lambda", "http://127.0.0.1:9000"},
		{"other service's variable ignored", map[string]string{"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9000", "AWS_REGION": "eu-west-1"}, "ssm", "https://ssm.eu-west-1.amazonaws.com"},
		{"global variable", map[string]string{"AWS_ENDPOINT_URL": "http://localhost:4566", "AWS_REGION": "eu-west-1"}, "ssm", "http://localhost:4566"},
		{"ignored when asked", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "TRUE", "AWS_ENDPOINT_URL_SSM": "http://x", "AWS_ENDPOINT_URL": "http://y", "AWS_REGION": "eu-west-1"}, "ssm", "https://ssm.eu-west-1.amazonaws.com"},
		{"not ignored when false", map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false", "AWS_ENDPOINT_URL_SSM": "http://x"}, "ssm", "http://x"},
		{"regional", map[string]string{"AWS_REGION": "us-east-1"}, "lambda", "https://lambda.us-east-1.amazonaws.com"},
		{"default region", map[string]string{"AWS_DEFAULT_REGION": "ap-southeast-2"}, "ssm", "https://ssm.ap-southeast-2.amazonaws.com"},
		{"china", map[string]string{"AWS_REGION": "cn-north-1"}, "ssm", "https://ssm.cn-north-1.amazonaws.com.cn"},
		{"nothing", map[string]string{}, "ssm", ""},
	} {
		if got := Endpoint(env(c.env), c.service); got != c.want {
			t.Errorf("%s: Endpoint(%s) = %q, want %q", c.name, c.service, got, c.want)
		}
	}
}
