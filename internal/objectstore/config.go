package objectstore

import (
	"errors"
	"fmt"

	"adstudio/internal/config"
)

// S3Config says which bucket to use and how to reach it: the settings
// internal/config reads (R2_*, S3_*), or a configuration built by hand in
// tests.
type S3Config = config.S3

// withDefaults fills Endpoint and Region and checks that the result is
// usable. config.Load already refuses a bad environment, naming the
// variables; this holds a configuration built by hand to the same rules.
func withDefaults(c S3Config) (S3Config, error) {
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
		case !config.ValidR2AccountID(c.AccountID):
			errs = append(errs, fmt.Errorf("storage: R2 account id %s: want letters, digits and -", quote(c.AccountID)))
		default:
			c.Endpoint = "https://" + c.AccountID + ".r2.cloudflarestorage.com"
		}
	} else if err := config.CheckS3Endpoint(c.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("storage: S3 endpoint: %w", err))
	}
	if c.Region == "" {
		// R2 signs with "auto" (it treats "" and us-east-1 as aliases of it).
		c.Region = "auto"
	}
	return c, errors.Join(errs...)
}
