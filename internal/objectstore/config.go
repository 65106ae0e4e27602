package objectstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// S3Config says which bucket to use and how to reach it.
type S3Config struct {
	AccountID       string // Cloudflare account id; builds the default Endpoint
	AccessKeyID     string
	SecretAccessKey string
	Bucket          string
	Endpoint        string // default "https://<AccountID>.r2.cloudflarestorage.com"
	Region          string // default "auto" (R2); a local stand-in needs its own region
}

// withDefaults fills Endpoint and Region and checks that the result is usable.
func (c S3Config) withDefaults() (S3Config, error) {
	var errs []error
	if c.AccessKeyID == "" {
		errs = append(errs, errors.New("storage: S3 access key id is required"))
	}
	if c.SecretAccessKey == "" {
		errs = append(errs, errors.New("storage: S3 secret access key is required"))
	}
	if c.Bucket == "" {
		errs = append(errs, errors.New("storage: S3 bucket is required"))
	}
	if c.Endpoint == "" {
		switch {
		case c.AccountID == "":
			errs = append(errs, errors.New("storage: an R2 account id or an S3 endpoint is required"))
		case !validAccountID(c.AccountID):
			errs = append(errs, fmt.Errorf("storage: R2 account id %s: want letters, digits and -", quote(c.AccountID)))
		default:
			c.Endpoint = "https://" + c.AccountID + ".r2.cloudflarestorage.com"
		}
	} else if err := checkEndpoint(c.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("storage: S3 endpoint: %w", err))
	}
	if c.Region == "" {
		// R2 signs with "auto" (it treats "" and us-east-1 as aliases of it).
		c.Region = "auto"
	}
	return c, errors.Join(errs...)
}

// ConfigFromEnv reads the storage settings: R2_ACCOUNT_ID, R2_ACCESS_KEY_ID,
// R2_SECRET_ACCESS_KEY and R2_BUCKET, plus S3_ENDPOINT and S3_REGION for
// other S3-compatible stores (S3_ENDPOINT replaces R2_ACCOUNT_ID). ok is false
// when none of them is set: storage is not configured. A partial set is an
// error naming each missing variable. Values are trimmed of surrounding space.
func ConfigFromEnv(getenv func(string) string) (cfg S3Config, ok bool, err error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	cfg = S3Config{
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
		return S3Config{}, false, nil
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
		if err := checkEndpoint(cfg.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("S3_ENDPOINT: %w", err))
		}
	case cfg.AccountID == "":
		errs = append(errs, fmt.Errorf("R2_ACCOUNT_ID: required when %s (or set S3_ENDPOINT)", reason))
	case !validAccountID(cfg.AccountID):
		errs = append(errs, errors.New("R2_ACCOUNT_ID: want letters, digits and - only"))
	}
	if err := errors.Join(errs...); err != nil {
		return S3Config{}, false, err
	}
	return cfg, true, nil
}

// validAccountID keeps the account id to what fits in a hostname label, since
// it is pasted into the endpoint URL.
func validAccountID(id string) bool {
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

// checkEndpoint accepts an absolute http or https URL with a host and no
// path, query or credentials: the bucket is added as the first path segment.
func checkEndpoint(s string) error {
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
