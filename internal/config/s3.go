package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// S3 is the object store's settings: Cloudflare R2, or another
// S3-compatible store through S3_ENDPOINT. internal/objectstore builds its
// client from them (objectstore.S3Config is this type).
type S3 struct {
	AccountID       string // R2_ACCOUNT_ID, the Cloudflare account; builds the default Endpoint
	AccessKeyID     string // R2_ACCESS_KEY_ID
	SecretAccessKey string // R2_SECRET_ACCESS_KEY
	Bucket          string // R2_BUCKET
	Endpoint        string // S3_ENDPOINT; default "https://<AccountID>.r2.cloudflarestorage.com"
	Region          string // S3_REGION; default "auto" (R2), a local stand-in needs its own
}

// loadS3 reads the storage settings: R2_ACCOUNT_ID, R2_ACCESS_KEY_ID,
// R2_SECRET_ACCESS_KEY and R2_BUCKET, plus S3_ENDPOINT and S3_REGION for
// other S3-compatible stores (S3_ENDPOINT replaces R2_ACCOUNT_ID). ok is
// false when none of them is set: storage is not configured. A partial set
// is an error naming each missing variable. Values are trimmed of
// surrounding space.
func loadS3(getenv Getenv) (cfg S3, ok bool, err error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	cfg = S3{
		AccountID:       get("R2_ACCOUNT_ID"),
		AccessKeyID:     get("R2_ACCESS_KEY_ID"),
		SecretAccessKey: get("R2_SECRET_ACCESS_KEY"),
		Bucket:          get("R2_BUCKET"),
		Endpoint:        get("S3_ENDPOINT"),
		Region:          get("S3_REGION"),
	}
	vars := []struct{ name, value string }{
		{"R2_ACCOUNT_ID", cfg.AccountID},
		{"R2_ACCESS_KEY_ID", cfg.AccessKeyID},
		{"R2_SECRET_ACCESS_KEY", cfg.SecretAccessKey},
		{"R2_BUCKET", cfg.Bucket},
		{"S3_ENDPOINT", cfg.Endpoint},
		{"S3_REGION", cfg.Region},
	}
	// reason names what made storage look configured, for the error message.
	reason := ""
	for _, v := range vars {
		if v.value != "" {
			reason = v.name + " is set"
			break
		}
	}
	if reason == "" {
		return S3{}, false, nil
	}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		reason = "R2 credentials are set"
	}

	var errs []error
	missing := func(name string) {
		errs = append(errs, fmt.Errorf("%s: required when %s", name, reason))
	}
	if cfg.AccessKeyID == "" {
		missing("R2_ACCESS_KEY_ID")
	}
	if cfg.SecretAccessKey == "" {
		missing("R2_SECRET_ACCESS_KEY")
	}
	if cfg.Bucket == "" {
		missing("R2_BUCKET")
	}
	switch {
	case cfg.Endpoint != "":
		if err := CheckS3Endpoint(cfg.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("S3_ENDPOINT: %w", err))
		}
	case cfg.AccountID == "":
		errs = append(errs, fmt.Errorf("R2_ACCOUNT_ID: required when %s (or set S3_ENDPOINT)", reason))
	case !ValidR2AccountID(cfg.AccountID):
		errs = append(errs, errors.New("R2_ACCOUNT_ID: want letters, digits and - only"))
	}
	if err := errors.Join(errs...); err != nil {
		return S3{}, false, err
	}
	return cfg, true, nil
}

// ValidR2AccountID keeps the account id to what fits in a hostname label,
// since it is pasted into the endpoint URL. internal/objectstore holds a
// hand-built S3 to the same rule.
func ValidR2AccountID(id string) bool {
	if id == "" || len(id) > 63 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// CheckS3Endpoint accepts an absolute http or https URL with a host and no
// path, query or credentials: the bucket is added as the first path
// segment. internal/objectstore holds a hand-built S3 to the same rule.
func CheckS3Endpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%s: want an http:// or https:// URL", quote(s))
	case u.Host == "":
		return fmt.Errorf("%s: no host", quote(s))
	case u.User != nil:
		return fmt.Errorf("%s: credentials belong in R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY", quote(u.Redacted()))
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("%s: want no path or query (path-style addressing adds the bucket)", quote(s))
	}
	return nil
}

// quote shows a value in an error, cut short so a pasted blob stays one
// readable line.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}
