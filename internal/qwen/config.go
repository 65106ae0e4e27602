package qwen

import (
	"net/url"
	"time"

	"adstudio/internal/config"
	"adstudio/internal/jscompat"
)

// Defaults of docs/dashscope.md §2. internal/config applies them when it
// reads QWEN_*; they are named here too for configurations built by hand
// (fakes, tests).
const (
	DefaultRegion     = config.DefaultQwenRegion
	DefaultImageModel = config.DefaultQwenImageModel
	DefaultEditModel  = config.DefaultQwenEditModel
	DefaultTimeout    = config.DefaultQwenTimeout
)

// GenerationPath is the synchronous multimodal-generation endpoint, the only
// one the backend calls.
const GenerationPath = "/api/v1/services/aigc/multimodal-generation/generation"

// The BACKEND_MISCONFIGURED messages of docs/app-api.md §2, spelled exactly.
const (
	msgMissingKey = "QWEN_API_KEY is not configured."
	msgBadRegion  = "QWEN_REGION must be either 'sg' or 'bj'."
	msgBadTimeout = "QWEN_TIMEOUT_MS must be a positive integer."
	msgBadBaseURL = "QWEN_BASE_URL must be an absolute http(s) URL."
)

// Config is the provider configuration, built once per cold start by
// NewConfig from what internal/config read.
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
// BACKEND_MISCONFIGURED message (docs/app-api.md §2), so it can be shown as is.
type ConfigError struct {
	Var     string // the environment variable at fault
	Message string
}

func (e *ConfigError) Error() string { return e.Message }

// NewConfig is the provider configuration from the settings internal/config
// read, with the first problem in the order the reference backend checks
// them (key, region, timeout), with one exception: a missing key is not
// reported here, because the app decides per request what a missing key
// means (the local generator in `make dev`, BACKEND_MISCONFIGURED
// elsewhere). Validate reports it. Since the reference never looks past a
// missing key, nothing else is reported while the key is missing either.
// The error is a *ConfigError.
func NewConfig(s config.Qwen) (Config, error) {
	c := Config{
		APIKey: s.APIKey, Region: s.Region, ImageModel: s.ImageModel, EditModel: s.EditModel,
		BaseURL: s.BaseURL, Timeout: s.Timeout,
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
		// Not in the old backend: QWEN_BASE_URL is ours, for fakes and proxies.
		return &ConfigError{Var: "QWEN_BASE_URL", Message: msgBadBaseURL}
	}
	return nil
}

func validBaseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// regionHost is the host of a region, for a Config built by hand without
// a BaseURL.
func regionHost(region string) string { return config.QwenRegionHost(region) }

// isBlank reports whether s is empty after JavaScript trimming, the
// reference's test for "non-blank" strings in provider bodies.
func isBlank(s string) bool { return jscompat.Trim(s) == "" }
