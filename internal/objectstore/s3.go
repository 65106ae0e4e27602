package objectstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxPresignTTL is SigV4's limit on X-Amz-Expires.
const maxPresignTTL = 7 * 24 * time.Hour

// S3 is a Store backed by an S3-compatible bucket (Cloudflare R2 in
// production, versitygw in tests). It is safe for concurrent use; build one
// per process and share it.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string

	// Put makes up to putAttempts calls (each with the SDK's own retries),
	// sleeping putBackoff, then 4×putBackoff, … between them.
	putAttempts int
	putBackoff  time.Duration
	// listPageSize is MaxKeys for DeletePrefix's listing (0: the server's
	// default, 1000); tests lower it to cross page boundaries.
	listPageSize int32
	// deleteWorkers bounds DeletePrefix's concurrent DeleteObject calls.
	deleteWorkers int
}

// NewS3 builds the client. It does no network I/O: the first request pays for
// DNS, TCP and TLS. Credentials are the static pair from cfg only, never the
// environment's AWS credentials (a Lambda's own role must not be sent to R2).
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	return newS3(ctx, cfg)
}

// newS3 is NewS3 with extra client options, for tests.
func newS3(ctx context.Context, cfg S3Config, optFns ...func(*s3.Options)) (*S3, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	// Built here rather than by config.LoadDefaultConfig: its credential
	// chain (SSO, STS, IMDS) costs milliseconds of package initialisation in
	// every function that imports this package, and none of what it reads
	// from the environment or ~/.aws applies to a store with its own
	// endpoint and static credentials.
	awsCfg := aws.Config{
		Region:      cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		// The SDK's default client (its dial and TLS handshake timeouts),
		// with one more bound: a store that accepted the body but never
		// answers is a timeout that Put can retry, instead of hanging until
		// the request's deadline.
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.ResponseHeaderTimeout = 15 * time.Second
		}),
		// Since service/s3 v1.73 the SDK adds CRC32 checksums (aws-chunked
		// trailers over HTTPS) to every request that supports one; R2 and
		// other S3 stand-ins have failed on them. when_required sends a plain
		// body.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		// The SDK's default backoff grows to 20 s; requests run inside a
		// ~30 s API Gateway window, so keep each wait short.
		Retryer: func() aws.Retryer {
			return retry.AddWithMaxBackoffDelay(retry.NewStandard(), time.Second)
		},
		// Where LoadDefaultConfig sent the SDK's warnings.
		Logger: logging.NewStandardLogger(os.Stderr),
	}
	client := s3.NewFromConfig(awsCfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(cfg.Endpoint)
		// One hostname for every bucket: one TLS name, works with stand-ins.
		o.UsePathStyle = true
		// R2 does not support Expect: 100-continue, which the SDK otherwise
		// adds to PUTs over 2 MB.
		o.ContinueHeaderThresholdBytes = -1
	}}, optFns...)...)
	return &S3{
		client:        client,
		presign:       s3.NewPresignClient(client),
		bucket:        cfg.Bucket,
		putAttempts:   3,
		putBackoff:    200 * time.Millisecond,
		deleteWorkers: 8,
	}, nil
}

// Put stores body under key. Transient failures (5xx, timeouts, broken
// connections) are retried a few times beyond the SDK's own retries, so a
// blip in storage does not lose a generated image; 4xx answers are not.
func (s *S3) Put(ctx context.Context, key, contentType string, body []byte) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	var err error
	for attempt := 1; ; attempt++ {
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(s.bucket),
			Key:    aws.String(key),
			// Seekable and with a known length: over plain HTTP the SDK must
			// hash the payload, and R2 requires Content-Length.
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
			ContentType:   aws.String(contentType),
		})
		if err == nil {
			return nil
		}
		if attempt >= s.putAttempts || !transient(ctx, err) {
			break
		}
		wait := s.putBackoff << (2 * (attempt - 1))
		select {
		case <-ctx.Done():
			return fmt.Errorf("put %s: %w (after %d attempts, the last: %w)", quote(key), ctx.Err(), attempt, err)
		case <-time.After(wait):
		}
	}
	return fmt.Errorf("put %s: %w", quote(key), err)
}

// transient reports whether a failed call may succeed if repeated: a 5xx
// answer, a timeout or a connection error, while the caller still waits.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() > 0 {
		return status.HTTPStatusCode() >= 500
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	return errors.As(err, &sendErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// Get opens key, or the part of it rangeHeader selects.
func (s *S3) Get(ctx context.Context, key string, rangeHeader string) (*Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	var rng byteRange
	if rangeHeader != "" {
		r, err := parseRange(rangeHeader)
		if err != nil {
			return nil, err
		}
		rng = r
		in.Range = aws.String(r.String())
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", quote(key), mapError(err))
	}
	obj := &Object{
		Body:         out.Body,
		ContentType:  aws.ToString(out.ContentType),
		Size:         aws.ToInt64(out.ContentLength),
		TotalSize:    aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified).UTC(),
		ContentRange: aws.ToString(out.ContentRange),
	}
	if rangeHeader == "" {
		return obj, nil
	}
	if _, _, total, ok := parseContentRange(obj.ContentRange); ok {
		obj.TotalSize = total
		return obj, nil
	}
	// A 200 to a ranged GET: the store ignored the range. Accept it only when
	// the range covers the whole object, so Body never holds bytes the caller
	// did not ask for.
	first, last, ok := rng.resolve(obj.Size)
	if !ok || first != 0 || last != obj.Size-1 {
		out.Body.Close()
		if !ok {
			return nil, fmt.Errorf("get %s: range %s: %w", quote(key), rng, ErrInvalidRange)
		}
		return nil, fmt.Errorf("get %s: store ignored range %s", quote(key), rng)
	}
	obj.ContentRange = contentRange(first, last, obj.Size)
	return obj, nil
}

// Head returns key's metadata.
func (s *S3) Head(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return Info{}, fmt.Errorf("head %s: %w", quote(key), mapError(err))
	}
	return Info{
		ContentType:  aws.ToString(out.ContentType),
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified).UTC(),
	}, nil
}

// Delete removes key; S3 reports success for a missing key, and so does this.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	return s.delete(ctx, key)
}

func (s *S3) delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && !errors.Is(mapError(err), ErrNotFound) {
		return fmt.Errorf("delete %s: %w", quote(key), err)
	}
	return nil
}

// DeletePrefix lists every key under prefix, page by page, and deletes each
// page before asking for the next. It uses one DeleteObject per key rather
// than DeleteObjects: S3 requires Content-MD5 on DeleteObjects, while this SDK
// sends a CRC32 checksum instead, which some S3-compatible stores refuse.
func (s *S3) DeletePrefix(ctx context.Context, prefix string) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	err := s.eachPage(ctx, prefix, func(objs []types.Object) error {
		keys := make([]string, 0, len(objs))
		for _, o := range objs {
			keys = append(keys, aws.ToString(o.Key))
		}
		_, err := s.deleteAll(ctx, keys)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete prefix %s: %w", quote(prefix), err)
	}
	return nil
}

// DeleteOlder deletes, page by page as DeletePrefix does, the objects under
// prefix whose LastModified is before cutoff. The listing and the deletes
// are separate calls: an object overwritten in between is deleted as well,
// so sweep only keys that are written once.
func (s *S3) DeleteOlder(ctx context.Context, prefix string, cutoff time.Time) (int, error) {
	if err := validatePrefix(prefix); err != nil {
		return 0, err
	}
	deleted := 0
	err := s.eachPage(ctx, prefix, func(objs []types.Object) error {
		var keys []string
		for _, o := range objs {
			if aws.ToTime(o.LastModified).Before(cutoff) {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		n, err := s.deleteAll(ctx, keys)
		deleted += n
		return err
	})
	if err != nil {
		return deleted, fmt.Errorf("delete older under %s: %w", quote(prefix), err)
	}
	return deleted, nil
}

// eachPage lists the objects under prefix and calls fn with each page
// before asking for the next, so a large prefix never sits in memory.
func (s *S3) eachPage(ctx context.Context, prefix string, fn func([]types.Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if s.listPageSize > 0 {
		in.MaxKeys = aws.Int32(s.listPageSize)
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		if err := fn(page.Contents); err != nil {
			return err
		}
	}
	return nil
}

// deleteAll deletes keys with at most s.deleteWorkers calls in flight and
// returns how many it deleted and every failure.
func (s *S3) deleteAll(ctx context.Context, keys []string) (int, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, max(s.deleteWorkers, 1))
	)
	for _, key := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.delete(ctx, key); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(keys) - len(errs), errors.Join(errs...)
}

// PresignGet signs a GET for key, valid for ttl (at most 7 days). It does no
// network I/O and does not check that the object exists. The URL carries the
// signer's clock: a skewed clock gives URLs that are already expired.
func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if ttl <= 0 || ttl > maxPresignTTL {
		return "", fmt.Errorf("presign %s: ttl %v: want more than 0 and at most 7 days", quote(key), ttl)
	}
	req, err := s.presign.PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", quote(key), err)
	}
	return req.URL, nil
}

// PresignPut signs a PUT of key with Content-Type and Content-Length among
// the signed headers, so the store refuses a body of another type or size.
// Like PresignGet it does no network I/O and carries the signer's clock.
func (s *S3) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedPut, error) {
	contentType, ttl, err := checkPresignPut(key, contentType, size, ttl)
	if err != nil {
		return PresignedPut{}, err
	}
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		ContentType:   aws.String(contentType),
		ContentLength: aws.Int64(size),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return PresignedPut{}, fmt.Errorf("presign put %s: %w", quote(key), err)
	}
	p := PresignedPut{URL: req.URL, Headers: make(map[string]string, len(req.SignedHeader))}
	for name, values := range req.SignedHeader {
		// The browser sets Host from the URL.
		if name = http.CanonicalHeaderKey(name); name != "Host" {
			p.Headers[name] = strings.Join(values, ",")
		}
	}
	// A URL that does not bind both would let the browser store anything;
	// refuse to hand one out should the SDK ever stop signing them.
	if p.Headers["Content-Type"] != contentType || p.Headers["Content-Length"] != strconv.FormatInt(size, 10) {
		return PresignedPut{}, fmt.Errorf("presign put %s: SDK did not sign Content-Type and Content-Length (signed: %v)", quote(key), req.SignedHeader)
	}
	if p.ExpiresAt, err = sigV4Expiry(req.URL); err != nil {
		return PresignedPut{}, fmt.Errorf("presign put %s: %w", quote(key), err)
	}
	return p, nil
}

// sigV4Expiry reads when a presigned URL expires from its own X-Amz-Date and
// X-Amz-Expires, the values the store checks.
func sigV4Expiry(rawURL string) (time.Time, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return time.Time{}, err
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("presigned URL: X-Amz-Date: %w", err)
	}
	secs, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("presigned URL: X-Amz-Expires: %w", err)
	}
	return signed.Add(time.Duration(secs) * time.Second).UTC(), nil
}

// mapError turns "no such key" answers into ErrNotFound and 416 into
// ErrInvalidRange, keeping the original error in the chain.
func mapError(err error) error {
	var noSuchKey *types.NoSuchKey
	var notFound *types.NotFound
	if errors.As(err, &noSuchKey) || errors.As(err, &notFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case "InvalidRange":
			return fmt.Errorf("%w: %w", ErrInvalidRange, err)
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable {
		return fmt.Errorf("%w: %w", ErrInvalidRange, err)
	}
	return err
}
