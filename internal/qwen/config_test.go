package qwen_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"adstudio/internal/qwen"
)

const (
	msgKey     = "QWEN_API_KEY is not configured."
	msgRegion  = "QWEN_REGION must be either 'sg' or 'bj'."
	msgTimeout = "QWEN_TIMEOUT_MS must be a positive integer."
)

// lookupEnv is an environment where a key in the map is present, even with
// an empty value.
func lookupEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestLoadConfig(t *testing.T) {
	const key = "sk-test"
	withKey := func(kv ...string) map[string]string {
		m := map[string]string{"QWEN_API_KEY": key}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	defaults := qwen.Config{
		APIKey: key, Region: "sg", ImageModel: "qwen-image-max", EditModel: "qwen-image-edit-max",
		BaseURL: "https://dashscope-intl.aliyuncs.com", Timeout: 45 * time.Second,
	}
	with := func(f func(*qwen.Config)) qwen.Config { c := defaults; f(&c); return c }

	tests := []struct {
		name    string
		env     map[string]string
		want    *qwen.Config // nil: not checked
		wantErr string       // LoadConfigLookup's error
		// Validate's error; defaults to wantErr.
		wantValidate string
	}{
		// Hostile and broken values first.
		{name: "present but empty region is an error", env: withKey("QWEN_REGION", ""), wantErr: msgRegion},
		{name: "blank region is an error", env: withKey("QWEN_REGION", " \t"), wantErr: msgRegion},
		{name: "unknown region", env: withKey("QWEN_REGION", "us"), wantErr: msgRegion},
		{name: "region with inner junk", env: withKey("QWEN_REGION", "s g"), wantErr: msgRegion},
		{name: "timeout zero", env: withKey("QWEN_TIMEOUT_MS", "0"), wantErr: msgTimeout},
		{name: "timeout negative", env: withKey("QWEN_TIMEOUT_MS", "-5"), wantErr: msgTimeout},
		{name: "timeout minus zero", env: withKey("QWEN_TIMEOUT_MS", "-0"), wantErr: msgTimeout},
		{name: "timeout not a number", env: withKey("QWEN_TIMEOUT_MS", "abc"), wantErr: msgTimeout},
		{name: "timeout blank is not absent", env: withKey("QWEN_TIMEOUT_MS", "   "), wantErr: msgTimeout},
		{name: "timeout hex is parseInt 0", env: withKey("QWEN_TIMEOUT_MS", "0x10"), wantErr: msgTimeout},
		{name: "timeout fraction below one", env: withKey("QWEN_TIMEOUT_MS", "0.9"), wantErr: msgTimeout},
		{name: "timeout sign alone", env: withKey("QWEN_TIMEOUT_MS", "+"), wantErr: msgTimeout},
		{name: "timeout U+0085 is not JS whitespace", env: withKey("QWEN_TIMEOUT_MS", "\u008510"), wantErr: msgTimeout},
		{name: "timeout non-ASCII digits", env: withKey("QWEN_TIMEOUT_MS", "٣٠"), wantErr: msgTimeout},
		{name: "timeout Infinity as a double", env: withKey("QWEN_TIMEOUT_MS", strings.Repeat("9", 400)), wantErr: msgTimeout},
		{name: "timeout with a unit", env: withKey("QWEN_TIMEOUT_MS", "45s"), wantErr: msgTimeout},
		{name: "timeout trailing junk", env: withKey("QWEN_TIMEOUT_MS", "45000ms"), wantErr: msgTimeout},
		{name: "timeout fraction", env: withKey("QWEN_TIMEOUT_MS", "1.5"), wantErr: msgTimeout},
		{name: "timeout exponent", env: withKey("QWEN_TIMEOUT_MS", "1e3"), wantErr: msgTimeout},
		{name: "timeout plus sign", env: withKey("QWEN_TIMEOUT_MS", "+250"), wantErr: msgTimeout},
		{name: "timeout inner space", env: withKey("QWEN_TIMEOUT_MS", "45 000"), wantErr: msgTimeout},
		{name: "region checked before timeout", env: withKey("QWEN_REGION", "xx", "QWEN_TIMEOUT_MS", "0"), wantErr: msgRegion},
		{name: "bad base URL", env: withKey("QWEN_BASE_URL", "ftp://example.com"), wantErr: "QWEN_BASE_URL must be an absolute http(s) URL."},
		{name: "base URL without host", env: withKey("QWEN_BASE_URL", "http:///x"), wantErr: "QWEN_BASE_URL must be an absolute http(s) URL."},

		// A missing key is only Validate's to report, and hides the rest as
		// the reference's key-first check does.
		{name: "nothing set", env: map[string]string{}, want: ptr(with(func(c *qwen.Config) { c.APIKey = "" })), wantValidate: msgKey},
		{name: "blank key", env: withKey("QWEN_API_KEY", " \u00a0\u2003"), wantValidate: msgKey},
		{name: "missing key hides bad region", env: map[string]string{"QWEN_REGION": "", "QWEN_TIMEOUT_MS": "x"}, wantValidate: msgKey},

		{name: "defaults", env: withKey(), want: &defaults},
		{name: "key trimmed with JS whitespace", env: withKey("QWEN_API_KEY", "\ufeff sk-test\u3000\n"), want: &defaults},
		{name: "region trimmed and lower-cased", env: withKey("QWEN_REGION", " BJ "),
			want: ptr(with(func(c *qwen.Config) { c.Region, c.BaseURL = "bj", "https://dashscope.aliyuncs.com" }))},
		{name: "region sg explicit", env: withKey("QWEN_REGION", "Sg"), want: &defaults},
		{name: "blank models default", env: withKey("QWEN_IMAGE_MODEL", "  ", "QWEN_IMAGE_EDIT_MODEL", ""), want: &defaults},
		{name: "models trimmed", env: withKey("QWEN_IMAGE_MODEL", " qwen-image-2.0 ", "QWEN_IMAGE_EDIT_MODEL", "\tqwen-image-2.0-pro"),
			want: ptr(with(func(c *qwen.Config) { c.ImageModel, c.EditModel = "qwen-image-2.0", "qwen-image-2.0-pro" }))},
		{name: "empty timeout is the default", env: withKey("QWEN_TIMEOUT_MS", ""), want: &defaults},
		{name: "timeout leading and trailing JS whitespace", env: withKey("QWEN_TIMEOUT_MS", "\u00a0\ufeff 250\n"),
			want: ptr(with(func(c *qwen.Config) { c.Timeout = 250 * time.Millisecond }))},
		{name: "timeout beyond Duration saturates", env: withKey("QWEN_TIMEOUT_MS", "99999999999999999999"),
			want: ptr(with(func(c *qwen.Config) { c.Timeout = time.Duration(math.MaxInt64) }))},
		{name: "base URL overrides region host", env: withKey("QWEN_REGION", "bj", "QWEN_BASE_URL", " http://127.0.0.1:9/ "),
			want: ptr(with(func(c *qwen.Config) { c.Region, c.BaseURL = "bj", "http://127.0.0.1:9" }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := qwen.LoadConfigLookup(lookupEnv(tt.env))
			checkConfigErr(t, "LoadConfigLookup", err, tt.wantErr)
			wantV := tt.wantValidate
			if wantV == "" {
				wantV = tt.wantErr
			}
			checkConfigErr(t, "Validate", c.Validate(), wantV)
			if tt.want != nil && c != *tt.want {
				t.Errorf("config = %+v\nwant     %+v", c, *tt.want)
			}
		})
	}
}

// LoadConfig cannot see a present-but-empty variable: an empty region is
// the default there, while whitespace is still an error.
func TestLoadConfigGetenv(t *testing.T) {
	env := map[string]string{"QWEN_API_KEY": "k", "QWEN_REGION": ""}
	c, err := qwen.LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.Region != "sg" {
		t.Fatalf("empty region via getenv: %+v, %v", c, err)
	}
	env["QWEN_REGION"] = " "
	_, err = qwen.LoadConfig(func(k string) string { return env[k] })
	checkConfigErr(t, "LoadConfig", err, msgRegion)
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
