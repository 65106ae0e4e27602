package awsenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// GetParameters reads names from SSM Parameter Store at endpoint,
// decrypted (WithDecryption), in one GetParameters call: the API takes at
// most ten names. It returns the values by parameter name and the names SSM
// reports as invalid (not found, or not readable as asked). Errors carry
// the service's code and message, never a parameter's value.
func GetParameters(ctx context.Context, cfg aws.Config, endpoint string, names []string) (values map[string]string, invalid []string, err error) {
	body, err := json.Marshal(struct {
		Names          []string
		WithDecryption bool
	}{names, true})
	if err != nil {
		return nil, nil, err
	}
	_, answer, err := Send(ctx, cfg, Request{
		Service:   "ssm",
		Operation: "GetParameters",
		Endpoint:  endpoint,
		Path:      "/",
		Header: http.Header{
			"Content-Type": {"application/x-amz-json-1.1"},
			"X-Amz-Target": {"AmazonSSM.GetParameters"},
		},
		Body: body,
	})
	if err != nil {
		return nil, nil, err
	}
	// Only the fields used: ARN, Type, Version, LastModifiedDate (a number
	// of seconds), Selector, SourceResult and DataType are ignored.
	var out struct {
		Parameters []struct {
			Name  string
			Value string
		}
		InvalidParameters []string
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		// Not %w: a syntax error may quote the answer, which holds values.
		return nil, nil, fmt.Errorf("ssm GetParameters: answer is not the expected JSON (%d bytes)", len(answer))
	}
	values = make(map[string]string, len(out.Parameters))
	for _, p := range out.Parameters {
		values[p.Name] = p.Value
	}
	return values, out.InvalidParameters, nil
}
