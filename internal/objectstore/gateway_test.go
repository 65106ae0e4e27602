package objectstore

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"adstudio/internal/devtools/objectstoretest"
	"adstudio/internal/devtools/testenv"
)

// gateway is a versitygw process (a real S3-compatible server over a posix
// directory) for one test.
type gateway struct {
	endpoint       string
	access, secret string
	buckets        atomic.Int64
}

// startGateway runs versitygw for the test's lifetime. Without it the test
// skips, or fails under CI.
func startGateway(t *testing.T) *gateway {
	t.Helper()
	v := objectstoretest.Start(t, testenv.Tool(t, objectstoretest.BinEnv, objectstoretest.BinHow))
	return &gateway{endpoint: v.Endpoint, access: v.Access, secret: v.Secret}
}

// client builds an S3 store for bucket against endpoint (the gateway itself,
// or a proxy in front of it).
func (g *gateway) client(t *testing.T, endpoint, bucket string, optFns ...func(*s3.Options)) *S3 {
	t.Helper()
	s, err := newS3(t.Context(), S3Config{
		AccessKeyID:     g.access,
		SecretAccessKey: g.secret,
		Bucket:          bucket,
		Endpoint:        endpoint,
	}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newBucket creates a fresh bucket through the SDK and returns a store on it.
func (g *gateway) newBucket(t *testing.T, optFns ...func(*s3.Options)) *S3 {
	t.Helper()
	name := fmt.Sprintf("test-%d", g.buckets.Add(1))
	s := g.client(t, g.endpoint, name, optFns...)
	if _, err := s.client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return s
}
