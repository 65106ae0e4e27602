// Package awsenv is AWS as a deployed function sees it: the region and the
// role's credentials that Lambda puts in the environment, the calls the
// functions make (SSM GetParameters once per cold start, an asynchronous
// Lambda Invoke to continue a generation), and Send, the signed call they
// are built on, for other packages' few calls (SES SendEmail in
// internal/mail).
//
// It exists for cold starts. The SDK's service clients and its default
// configuration loader (with its SSO, STS and IMDS credential chain) cost
// ~13 ms of package initialisation in every function, for requests that
// need only SigV4 and a JSON body. The signer is still the SDK's.
package awsenv

import (
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config returns the aws.Config of a Lambda function from its environment
// only: the region from AWS_REGION (else AWS_DEFAULT_REGION) and static
// credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN (optional: the local gateway sets none). Anything missing
// is an error naming the variables, never a value.
func Config(getenv func(string) string) (aws.Config, error) {
	var missing []string
	region := region(getenv)
	if region == "" {
		missing = append(missing, "AWS_REGION (or AWS_DEFAULT_REGION)")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID")
	}
	if secret == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY")
	}
	if len(missing) > 0 {
		return aws.Config{}, errors.New("awsenv: not set: " + strings.Join(missing, ", "))
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN")),
		// Both calls run in short windows (a 5 s bound at init, the last
		// seconds of a request's budget); the SDK's default backoff grows to
		// 20 s, so keep each wait under a second.
		Retryer: func() aws.Retryer {
			return retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Second)
		},
	}, nil
}

// Endpoint returns the base URL for service (its endpoint prefix, "ssm" or
// "lambda"), from the variables the SDK honours: AWS_ENDPOINT_URL_<SERVICE>,
// then AWS_ENDPOINT_URL (both ignored when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), then the service's regional
// endpoint. It returns "" when none is set and there is no region.
func Endpoint(getenv func(string) string, service string) string {
	if u := ConfiguredEndpoint(getenv, service); u != "" {
		return u
	}
	return RegionalEndpoint(service, region(getenv))
}

// ConfiguredEndpoint is the endpoint the environment sets for the service
// whose SDK id is serviceID ("SSM", "Lambda", "SESv2"):
// AWS_ENDPOINT_URL_<ID>, then AWS_ENDPOINT_URL, as the SDK reads them; ""
// when neither is set or AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. (For
// SES the id and the host's prefix differ: SESv2, email.)
func ConfiguredEndpoint(getenv func(string) string, serviceID string) string {
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return ""
	}
	// The SDK's spelling of a service id in a variable name.
	env := strings.ReplaceAll(strings.ToUpper(serviceID), " ", "_")
	if u := getenv("AWS_ENDPOINT_URL_" + env); u != "" {
		return u
	}
	return getenv("AWS_ENDPOINT_URL")
}

// RegionalEndpoint is the base URL of the service whose host starts with
// prefix ("ssm", "lambda", "email" for SES) in region, or "" when region
// is.
func RegionalEndpoint(prefix, region string) string {
	if region == "" {
		return ""
	}
	// The China partition is the one commercial region set whose hosts
	// differ; GovCloud's are under amazonaws.com too.
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://" + prefix + "." + region + "." + suffix
}

func region(getenv func(string) string) string {
	if r := getenv("AWS_REGION"); r != "" {
		return r
	}
	return getenv("AWS_DEFAULT_REGION")
}
