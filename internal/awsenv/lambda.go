package awsenv

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// InvokeAsync queues an invocation of functionName (a name, a partial or a
// full ARN, with or without a qualifier) with payload, through Lambda's
// Invoke API at endpoint with InvocationType Event: Lambda answers 202 once
// the event is queued, runs it later and retries it on failure.
func InvokeAsync(ctx context.Context, cfg aws.Config, endpoint, functionName string, payload []byte) error {
	if functionName == "" {
		return fmt.Errorf("lambda Invoke: no function name")
	}
	status, _, err := Send(ctx, cfg, Request{
		Service:   "lambda",
		Operation: "Invoke",
		Endpoint:  endpoint,
		// Escaped as the SDK escapes it: everything but unreserved
		// characters, the colons of an ARN included.
		Path: "/2015-03-31/functions/" + httpbinding.EscapePath(functionName, true) + "/invocations",
		Header: http.Header{
			"Content-Type":          {"application/octet-stream"},
			"X-Amz-Invocation-Type": {"Event"},
		},
		Body: payload,
	})
	if err != nil {
		return err
	}
	if status != http.StatusAccepted {
		// 200 would mean it ran synchronously, 204 a dry run: not queued.
		return fmt.Errorf("lambda Invoke %s: HTTP %d, want 202 (queued)", functionName, status)
	}
	return nil
}
