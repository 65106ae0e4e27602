// Package secrets reads secret settings from SSM Parameter Store once per
// cold start. The deployed functions get parameter NAMES, never values: for
// each setting NAME that is secret, the stack sets NAME_SSM to the name of a
// SecureString parameter, and Overlay returns a getenv in which NAME reads
// that parameter's value.
package secrets

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Suffix marks an environment variable that names a parameter.
const Suffix = "_SSM"

// Client is SSM's GetParameters, decrypted, for at most ten names: the
// values by parameter name, and the names SSM reports as invalid. On Lambda
// it is awsenv.GetParameters bound to a config and an endpoint.
type Client func(ctx context.Context, names []string) (values map[string]string, invalid []string, err error)

// Wanted returns NAME → parameter name for every NAME_SSM in environ.
func Wanted(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutSuffix(k, Suffix); ok && name != "" && strings.TrimSpace(v) != "" {
			out[name] = strings.TrimSpace(v)
		}
	}
	return out
}

// Overlay fetches every wanted parameter (decrypted, ten per request, the
// API's limit) and returns getenv with those values in front. A parameter
// that does not exist fails the cold start with its name, never its value.
func Overlay(ctx context.Context, wanted map[string]string, getenv func(string) string, c Client) (func(string) string, error) {
	if len(wanted) == 0 {
		return getenv, nil
	}
	byParam := map[string][]string{}
	var params []string
	for name, p := range wanted {
		if _, seen := byParam[p]; !seen {
			params = append(params, p)
		}
		byParam[p] = append(byParam[p], name)
	}
	sort.Strings(params)
	values := map[string]string{}
	for i := 0; i < len(params); i += 10 {
		batch := params[i:min(i+10, len(params))]
		got, invalid, err := c(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("secrets: read %s: %w", strings.Join(batch, ", "), err)
		}
		if len(invalid) > 0 {
			return nil, fmt.Errorf("secrets: no such parameter: %s", strings.Join(invalid, ", "))
		}
		for p, v := range got {
			for _, name := range byParam[p] {
				values[name] = v
			}
		}
	}
	for name, p := range wanted {
		if _, ok := values[name]; !ok {
			return nil, fmt.Errorf("secrets: parameter %s (for %s) was not returned", p, name)
		}
	}
	return func(k string) string {
		if v, ok := values[k]; ok {
			return v
		}
		return getenv(k)
	}, nil
}
