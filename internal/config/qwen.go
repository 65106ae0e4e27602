package config

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Defaults of the image provider's settings (docs/dashscope.md §2).
// internal/qwen re-exports them for configurations built by hand.
const (
	DefaultQwenRegion     = "sg"
	DefaultQwenImageModel = "qwen-image-max"
	DefaultQwenEditModel  = "qwen-image-edit-max"
	DefaultQwenTimeout    = 45 * time.Second
)

// Hosts of the two regions the reference backend knows (docs/dashscope.md
// §3): the default QWEN_BASE_URL. A key works only against the host of its
// own region.
const (
	QwenHostSingapore = "https://dashscope-intl.aliyuncs.com"
	QwenHostBeijing   = "https://dashscope.aliyuncs.com"
)

// Qwen is the image provider's settings, read from QWEN_* as the reference
// backend reads them: values trimmed of JavaScript white space, an empty
// value taken as absent, defaults applied. A value the contract reports per
// request rather than at start (no key, an unknown region) is kept as
// read, for qwen.NewConfig to report.
type Qwen struct {
	// APIKey is QWEN_API_KEY; "" means not configured.
	APIKey string
	// Region is QWEN_REGION lower-cased, DefaultQwenRegion when unset. An
	// invalid value (even one of white space only) is kept as read.
	Region     string
	ImageModel string // QWEN_IMAGE_MODEL, DefaultQwenImageModel when blank
	EditModel  string // QWEN_IMAGE_EDIT_MODEL, DefaultQwenEditModel when blank
	// BaseURL is the scheme and host requests go to: QWEN_BASE_URL without
	// its trailing "/" when set (fakes, proxies), else the region's host.
	BaseURL string
	// Timeout is QWEN_TIMEOUT_MS, DefaultQwenTimeout when unset, and 0 when
	// the value is not whole milliseconds. Load refuses such a value at
	// start, except one of white space only, which qwen.NewConfig reports
	// as the reference does.
	Timeout time.Duration
}

// loadQwen reads QWEN_*. It never fails: Load and qwen.NewConfig judge what
// it read.
func loadQwen(getenv Getenv) Qwen {
	get := func(k string) string { return jsTrim(getenv(k)) }
	q := Qwen{
		APIKey:     get("QWEN_API_KEY"),
		Region:     DefaultQwenRegion,
		ImageModel: get("QWEN_IMAGE_MODEL"),
		EditModel:  get("QWEN_IMAGE_EDIT_MODEL"),
		Timeout:    DefaultQwenTimeout,
	}
	// Present but blank is an error, not the default (docs/dashscope.md
	// §2), so these two test the untrimmed value.
	if v := getenv("QWEN_REGION"); v != "" {
		q.Region = strings.ToLower(jsTrim(v))
	}
	if v := getenv("QWEN_TIMEOUT_MS"); v != "" {
		q.Timeout = parseTimeoutMS(v)
	}
	if q.ImageModel == "" {
		q.ImageModel = DefaultQwenImageModel
	}
	if q.EditModel == "" {
		q.EditModel = DefaultQwenEditModel
	}
	if base := get("QWEN_BASE_URL"); base != "" {
		q.BaseURL = strings.TrimRight(base, "/")
	} else {
		q.BaseURL = QwenRegionHost(q.Region)
	}
	return q
}

// QwenRegionHost is the host of a region; unknown regions get the
// default's so the settings (or a configuration built by hand) still point
// somewhere sensible.
func QwenRegionHost(region string) string {
	if region == "bj" {
		return QwenHostBeijing
	}
	return QwenHostSingapore
}

// parseTimeoutMS reads whole milliseconds: ASCII digits only, after the
// JavaScript white space around the value. The old backend read it with
// parseInt, which silently turned "45s" into 45 ms and "1.5" into 1 ms; any
// such value is refused here (0), so a typo cannot become a timeout a
// thousand times too short. A value beyond time.Duration's range means, in
// practice, "never".
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

// jsTrim is JavaScript's String.prototype.trim, which the reference backend
// applies to QWEN_*: its white space differs from unicode.IsSpace (U+FEFF
// is in, U+0085 is out). internal/qwen trims provider bodies the same way;
// config keeps its own copy because it imports no project package.
func jsTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		switch r {
		case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
			return true
		}
		return r >= 0x2000 && r <= 0x200A
	})
}
