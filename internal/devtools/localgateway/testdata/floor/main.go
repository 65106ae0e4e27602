// Command floor is the cold-start floor of BenchmarkColdStart: the least a
// Go Lambda can be, aws-lambda-go answering an API Gateway v2 event with a
// small JSON body. The benchmark builds it as it builds the functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       `{"status":"ok"}`,
		}, nil
	})
}
