package qwen

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of spec §2.
const (
	DefaultRegion     = "sg"
	DefaultImageModel = "qwen-image-max"
	DefaultEditModel  = "qwen-image-edit-max"
	DefaultTimeout    = 45 * time.Second
)

// Hosts of the two regions the reference backend knows (spec §3). A key
// works only against the host of its own region.
const (
	HostSingapore = "https://dashscope-intl.aliyuncs.com"
	HostBeijing   = "https://dashscope.aliyuncs.com"
)

// GenerationPath is the synchronous multimodal-generation endpoint, the only
// one the backend calls.
const GenerationPath = "/api/v1/services/aigc/multimodal-generation/generation"

// The contract's BACKEND_MISCONFIGURED messages, spelled exactly.
const (
	msgMissingKey = "QWEN_API_KEY is not configured."
	msgBadRegion  = "QWEN_REGION must be either 'sg' or 'bj'."
	msgBadTimeout = "QWEN_TIMEOUT_MS must be a positive integer."
	msgBadBaseURL = "QWEN_BASE_URL must be an absolute http(s) URL."
)

// Config is the provider configuration, loaded once per cold start.
type Config struct {
	// APIKey is the trimmed bearer key. Empty means "not configured", which
	// is an error only when a request actually needs the provider.
	APIKey string
	// Region is "sg" or "bj" once valid. An invalid value is kept as read
	// (trimmed, lower-cased) so Validate can report it; a Config built by
	// hand must set it too, since "" is the present-but-empty error.
	Region     string
	ImageModel string
	EditModel  string
	// BaseURL is the scheme and host requests go to: QWEN_BASE_URL when set
	// (fakes, proxies), else the region's host.
	BaseURL string
	// Timeout bounds the wait for response headers. Zero after a failed
	// parse, so Validate reports it.
	Timeout time.Duration
}

// ConfigError is a configuration problem. Its Error text is exactly the
// contract's BACKEND_MISCONFIGURED message, so it can be shown as is.
type ConfigError struct {
	Var     string // the environment variable at fault
	Message string
}

func (e *ConfigError) Error() string { return e.Message }

// LoadConfig reads the QWEN_* variables through getenv, treating an empty
// value as absent. That makes a present-but-empty QWEN_REGION (an error in
// the contract) indistinguishable from an absent one; callers that can tell
// the two apart should use LoadConfigLookup(os.LookupEnv).
func LoadConfig(getenv func(string) string) (Config, error) {
	return LoadConfigLookup(func(k string) (string, bool) {
		v := getenv(k)
		return v, v != ""
	})
}

// LoadConfigLookup reads the QWEN_* variables per spec §2 and returns the
// config together with the first problem in the order the reference backend
// checks them (key, region, timeout), with one exception: a missing key is
// not reported here, because the app decides per request what a missing key
// means (the local generator in `make dev`, BACKEND_MISCONFIGURED
// elsewhere). Validate reports it. Since the reference never looks past a
// missing key, nothing else is reported while the key is missing either.
func LoadConfigLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(k string) (string, bool) {
		v, ok := lookup(k)
		return jsTrim(v), ok
	}
	var c Config
	c.APIKey, _ = get("QWEN_API_KEY")

	c.Region = DefaultRegion
	if v, ok := get("QWEN_REGION"); ok {
		// Present but blank is an error, not the default (spec §2).
		c.Region = strings.ToLower(v)
	}

	c.ImageModel, _ = get("QWEN_IMAGE_MODEL")
	if c.ImageModel == "" {
		c.ImageModel = DefaultImageModel
	}
	c.EditModel, _ = get("QWEN_IMAGE_EDIT_MODEL")
	if c.EditModel == "" {
		c.EditModel = DefaultEditModel
	}

	c.Timeout = DefaultTimeout
	if v, ok := lookup("QWEN_TIMEOUT_MS"); ok && v != "" {
		c.Timeout = parseTimeoutMS(v)
	}

	if base, _ := get("QWEN_BASE_URL"); base != "" {
		c.BaseURL = strings.TrimRight(base, "/")
	} else {
		c.BaseURL = regionHost(c.Region)
	}

	if c.APIKey == "" {
		return c, nil
	}
	return c, c.Validate()
}

// Validate reports the first problem in the reference order: missing key,
// bad region, bad timeout (then a malformed BaseURL). A nil result means requests can be sent.
func (c Config) Validate() error {
	switch {
	case c.APIKey == "":
		return &ConfigError{Var: "QWEN_API_KEY", Message: msgMissingKey}
	case c.Region != "sg" && c.Region != "bj":
		return &ConfigError{Var: "QWEN_REGION", Message: msgBadRegion}
	case c.Timeout <= 0:
		return &ConfigError{Var: "QWEN_TIMEOUT_MS", Message: msgBadTimeout}
	case c.BaseURL != "" && !validBaseURL(c.BaseURL):
		// Not in the contract: QWEN_BASE_URL is ours, for fakes and proxies.
		return &ConfigError{Var: "QWEN_BASE_URL", Message: msgBadBaseURL}
	}
	return nil
}

func validBaseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// regionHost is the host of a region; unknown regions get the default's so
// a Config built by hand still points somewhere sensible.
func regionHost(region string) string {
	if region == "bj" {
		return HostBeijing
	}
	return HostSingapore
}

// parseTimeoutMS reads whole milliseconds: ASCII digits only, after the
// JavaScript white space around the value. The old backend read it with
// parseInt, which silently turned "45s" into 45 ms and "1.5" into 1 ms; any
// such value is refused here (0, which Validate reports), so a typo cannot
// become a timeout a thousand times too short. A value beyond
// time.Duration's range means, in practice, "never".
func parseTimeoutMS(v string) time.Duration {
	s := jsTrim(v)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || f <= 0 {
		return 0
	}
	if f >= float64(math.MaxInt64/int64(time.Millisecond)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f) * time.Millisecond
}

// isJSSpace is JavaScript's WhiteSpace ∪ LineTerminator, the set
// String.prototype.trim and parseInt skip. It differs from unicode.IsSpace:
// U+FEFF is in, U+0085 is out.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// jsTrim is String.prototype.trim.
func jsTrim(s string) string { return strings.TrimFunc(s, isJSSpace) }

// isBlank reports whether s is empty after JavaScript trimming, the
// reference's test for "non-blank" strings in provider bodies.
func isBlank(s string) bool { return jsTrim(s) == "" }
