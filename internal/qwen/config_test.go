package qwen_test

import (
	"errors"
	"testing"
	"time"

	"adstudio/internal/config"
	"adstudio/internal/qwen"
)

const (
	msgKey     = "QWEN_API_KEY is not configured."
	msgRegion  = "QWEN_REGION must be either 'sg' or 'bj'."
	msgTimeout = "QWEN_TIMEOUT_MS must be a positive integer."
	msgBaseURL = "QWEN_BASE_URL must be an absolute http(s) URL."
)

// How QWEN_* are read (trimming, defaults, the timeout's syntax) is
// internal/config's test; this one is what NewConfig and Validate make of
// the settings read.
func TestNewConfig(t *testing.T) {
	valid := config.Qwen{
		APIKey: "sk-test", Region: "sg", ImageModel: "qwen-image-max", EditModel: "qwen-image-edit-max",
		BaseURL: "https://dashscope-intl.aliyuncs.com", Timeout: 45 * time.Second,
	}
	with := func(f func(*config.Qwen)) config.Qwen { s := valid; f(&s); return s }
	tests := []struct {
		name     string
		settings config.Qwen
		wantErr  string // NewConfig's error
		// Validate's error; defaults to wantErr.
		wantValidate string
	}{
		// Broken values first.
		{name: "blank region", settings: with(func(s *config.Qwen) { s.Region = "" }), wantErr: msgRegion},
		{name: "unknown region", settings: with(func(s *config.Qwen) { s.Region = "us" }), wantErr: msgRegion},
		{name: "region with inner junk", settings: with(func(s *config.Qwen) { s.Region = "s g" }), wantErr: msgRegion},
		{name: "timeout that did not parse", settings: with(func(s *config.Qwen) { s.Timeout = 0 }), wantErr: msgTimeout},
		{name: "region checked before timeout", settings: with(func(s *config.Qwen) { s.Region, s.Timeout = "xx", 0 }), wantErr: msgRegion},
		{name: "timeout checked before base URL", settings: with(func(s *config.Qwen) { s.Timeout, s.BaseURL = 0, "ftp://x" }), wantErr: msgTimeout},
		{name: "bad base URL", settings: with(func(s *config.Qwen) { s.BaseURL = "ftp://example.com" }), wantErr: msgBaseURL},
		{name: "base URL without host", settings: with(func(s *config.Qwen) { s.BaseURL = "http:///x" }), wantErr: msgBaseURL},

		// A missing key is only Validate's to report, and hides the rest as
		// the reference's key-first check does.
		{name: "no key", settings: with(func(s *config.Qwen) { s.APIKey = "" }), wantValidate: msgKey},
		{name: "missing key hides bad region and timeout", settings: with(func(s *config.Qwen) { s.APIKey, s.Region, s.Timeout = "", "", 0 }), wantValidate: msgKey},

		{name: "valid", settings: valid},
		{name: "Beijing through a proxy", settings: with(func(s *config.Qwen) { s.Region, s.BaseURL = "bj", "http://127.0.0.1:9" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := qwen.NewConfig(tt.settings)
			checkConfigErr(t, "NewConfig", err, tt.wantErr)
			wantV := tt.wantValidate
			if wantV == "" {
				wantV = tt.wantErr
			}
			checkConfigErr(t, "Validate", c.Validate(), wantV)
			s := tt.settings
			want := qwen.Config{APIKey: s.APIKey, Region: s.Region, ImageModel: s.ImageModel, EditModel: s.EditModel, BaseURL: s.BaseURL, Timeout: s.Timeout}
			if c != want {
				t.Errorf("config = %+v\nwant     %+v", c, want)
			}
		})
	}
}

// From the environment to the provider: what config.Load lets through to
// be reported per request, not at start.
func TestNewConfigFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"QWEN_API_KEY": "k", "QWEN_REGION": " "}, msgRegion},
		{map[string]string{"QWEN_API_KEY": "k", "QWEN_REGION": "eu"}, msgRegion},
		{map[string]string{"QWEN_API_KEY": "k", "QWEN_TIMEOUT_MS": "   "}, msgTimeout},
		{map[string]string{"QWEN_API_KEY": "k", "QWEN_BASE_URL": "dashscope.example"}, msgBaseURL},
		{map[string]string{"QWEN_REGION": "eu"}, ""}, // no key: nothing else is looked at
		{map[string]string{"QWEN_API_KEY": "k", "QWEN_REGION": ""}, ""},
	} {
		cfg, err := config.Load(func(k string) string { return tc.env[k] }, true)
		if err != nil {
			t.Errorf("%v: config.Load: %v", tc.env, err)
			continue
		}
		_, err = qwen.NewConfig(cfg.Qwen)
		checkConfigErr(t, "NewConfig", err, tc.want)
	}
}

func checkConfigErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s: unexpected error %v", what, err)
		}
		return
	}
	var ce *qwen.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("%s: error = %v, want *ConfigError %q", what, err, want)
		return
	}
	if ce.Error() != want {
		t.Errorf("%s: error = %q, want %q", what, ce.Error(), want)
	}
}

func ptr[T any](v T) *T { return &v }
