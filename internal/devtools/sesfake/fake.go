// Package sesfake is a local stand-in for Amazon SES v2's SendEmail, for
// tests. It checks a request the way SES documents it (the method and
// path, a JSON body with a sender, recipients, a subject and a body, and a
// SigV4 signature for service "ses" with the fake's own credentials, or
// those it is given, which it recomputes with the SDK's signer), answers
// as SES does, and keeps
// every accepted message for the test to read. It can be told to fail the
// next calls, for retry tests.
package sesfake

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// SendPath is SendEmail's path.
const SendPath = "/v2/email/outbound-emails"

// The credentials and region the fake accepts unless told others
// (NewFor, StartFor).
const (
	AccessKeyID     = "ASIASESFAKEEXAMPLE"
	SecretAccessKey = "sesfake-secret-access-key"
	SessionToken    = "sesfake-session-token"
	Region          = "eu-west-1"
)

// Credentials are what a fake accepts: requests signed with this access
// key and secret for this region, carrying this session token, or none
// when it is empty (long-term keys, or a client such as the local
// gateway's functions that has none).
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken, Region string
}

// defaultCredentials are the constants above.
func defaultCredentials() Credentials {
	return Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: SessionToken, Region: Region}
}

// AWSConfig is an aws.Config with c's region and credentials.
func (c Credentials) AWSConfig() aws.Config {
	return aws.Config{
		Region:      c.Region,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
	}
}

// maxSkew is how far X-Amz-Date may be from the fake's clock, as at AWS.
const maxSkew = 5 * time.Minute

// Message is one accepted SendEmail request.
type Message struct {
	MessageID string
	From      string
	To        []string
	Cc, Bcc   []string
	Subject   Content
	Text      Content // zero when the request had no text part
	HTML      Content // zero when the request had no HTML part
	Header    http.Header
}

// Content is a part's data and its charset, as sent.
type Content struct {
	Data, Charset string
}

// failure is a queued error answer.
type failure struct {
	status        int
	code, message string
}

// Server is a running fake. All methods are safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	now   func() time.Time
	creds Credentials

	mu       sync.Mutex
	calls    int
	messages []Message
	failures []failure
}

// New starts a fake on a loopback port that accepts the constants'
// credentials; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	return NewFor(t, defaultCredentials())
}

// NewFor is New for a fake that accepts c instead, for a client whose
// credentials are set elsewhere.
func NewFor(t testing.TB, c Credentials) *Server {
	t.Helper()
	s := StartFor(time.Now, c)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside a test, with now as the clock that request
// dates are checked against. The caller closes it.
func Start(now func() time.Time) *Server { return StartFor(now, defaultCredentials()) }

// StartFor is Start for a fake that accepts c.
func StartFor(now func() time.Time, c Credentials) *Server {
	s := &Server{now: now, creds: c}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+SendPath, s.send)
	// Anything else is answered as SES answers an unknown route.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count()
		writeError(w, http.StatusNotFound, "UnknownOperationException", "")
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the fake's base URL, the SES endpoint to configure.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AWSConfig is an aws.Config with the region and credentials New and
// Start accept.
func AWSConfig() aws.Config { return defaultCredentials().AWSConfig() }

// FailNext makes the next n calls, whatever they carry, fail with status
// and the error type code (TooManyRequestsException,
// MessageRejected, …) and message, before any check.
func (s *Server) FailNext(n, status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status, code, message})
	}
}

// Calls is the number of requests received, accepted or not.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = m
		out[i].To, out[i].Cc, out[i].Bcc = slices.Clone(m.To), slices.Clone(m.Cc), slices.Clone(m.Bcc)
		out[i].Header = m.Header.Clone()
	}
	return out
}

// count records a call and returns the failure queued for it, if any.
func (s *Server) count() *failure {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.failures) == 0 {
		return nil
	}
	f := s.failures[0]
	s.failures = s.failures[1:]
	return &f
}

// request is SendEmail's body, the simple-content form.
type request struct {
	FromEmailAddress string
	Destination      *struct {
		ToAddresses, CcAddresses, BccAddresses []string
	}
	Content *struct {
		Simple *struct {
			Subject *Content
			Body    *struct {
				Text, Html *Content
			}
		}
		Raw, Template json.RawMessage
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	if f := s.count(); f != nil {
		writeError(w, f.status, f.code, f.message)
		return
	}
	// SES takes at most 40 MB; the messages here are a few KB.
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequestException", "could not read the body")
		return
	}
	if status, code, msg := s.checkSignature(r, body); status != 0 {
		writeError(w, status, code, msg)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException", fmt.Sprintf("Content-Type %q, want application/json", ct))
		return
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "body is not the expected JSON: "+err.Error())
		return
	}
	m, problem := message(req)
	if problem != "" {
		writeError(w, http.StatusBadRequest, "BadRequestException", problem)
		return
	}
	m.MessageID = messageID()
	m.Header = r.Header.Clone()
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", messageID())
	json.NewEncoder(w).Encode(map[string]string{"MessageId": m.MessageID})
}

// message checks the members SES requires for simple content and returns
// the message, or what is missing.
func message(req request) (Message, string) {
	var m Message
	switch {
	case req.FromEmailAddress == "":
		// SES falls back to a configuration set's default only with a
		// template; a simple message names its sender.
		return m, "FromEmailAddress is required"
	case req.Destination == nil || len(req.Destination.ToAddresses)+len(req.Destination.CcAddresses)+len(req.Destination.BccAddresses) == 0:
		return m, "Destination must have at least one address"
	case req.Content == nil || req.Content.Simple == nil:
		return m, "Content.Simple is required (the fake does not take Raw or Template)"
	case req.Content.Simple.Subject == nil || req.Content.Simple.Subject.Data == "":
		return m, "Content.Simple.Subject.Data is required"
	case req.Content.Simple.Body == nil || (req.Content.Simple.Body.Text == nil && req.Content.Simple.Body.Html == nil):
		return m, "Content.Simple.Body must have Text or Html"
	}
	m.From = req.FromEmailAddress
	m.To, m.Cc, m.Bcc = req.Destination.ToAddresses, req.Destination.CcAddresses, req.Destination.BccAddresses
	m.Subject = *req.Content.Simple.Subject
	b := req.Content.Simple.Body
	for _, c := range []struct {
		in  *Content
		out *Content
	}{{b.Text, &m.Text}, {b.Html, &m.HTML}} {
		if c.in == nil {
			continue
		}
		if c.in.Data == "" {
			return Message{}, "a body part's Data is required"
		}
		*c.out = *c.in
	}
	return m, ""
}

// checkSignature verifies r's SigV4 Authorization against the fake's
// credentials (s.creds) by signing the same request again with the SDK's signer, and
// returns the error answer SES would give, or a zero status.
func (s *Server) checkSignature(r *http.Request, body []byte) (status int, code, message string) {
	c := s.creds
	const prefix = "AWS4-HMAC-SHA256 "
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, prefix)
	if !ok {
		return http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"
	}
	var credential, signedHeaders, signature string
	for part := range strings.SplitSeq(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signedHeaders = v
		case "Signature":
			signature = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || signedHeaders == "" || signature == "" {
		return http.StatusForbidden, "IncompleteSignatureException", "Authorization header is incomplete"
	}
	if scope[0] != c.AccessKeyID {
		return http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	if r.Header.Get("X-Amz-Security-Token") != c.SessionToken {
		return http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return http.StatusForbidden, "IncompleteSignatureException", "X-Amz-Date is missing or malformed"
	}
	if d := s.now().Sub(at); d > maxSkew || d < -maxSkew {
		return http.StatusForbidden, "InvalidSignatureException", "Signature expired: the request time is too far from the server's"
	}
	if scope[1] != at.Format("20060102") || scope[2] != c.Region || scope[3] != "ses" || scope[4] != "aws4_request" {
		return http.StatusForbidden, "InvalidSignatureException", fmt.Sprintf("Credential should be scoped to %s/%s/ses/aws4_request", at.Format("20060102"), c.Region)
	}
	signed := strings.Split(signedHeaders, ";")
	for _, h := range []string{"host", "x-amz-date"} {
		if !slices.Contains(signed, h) {
			return http.StatusForbidden, "InvalidSignatureException", "SignedHeaders must include " + h
		}
	}
	if r.Header.Get("Content-Type") != "" && !slices.Contains(signed, "content-type") {
		return http.StatusForbidden, "InvalidSignatureException", "SignedHeaders must include content-type"
	}

	// The same request with only the headers it signed; the signer adds
	// host, content-length, X-Amz-Date and the token itself.
	again, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.EscapedPath(), bytes.NewReader(body))
	if err != nil {
		return http.StatusBadRequest, "BadRequestException", "request line"
	}
	again.URL.RawQuery = r.URL.RawQuery
	again.Host = r.Host
	again.ContentLength = 0
	for _, h := range signed {
		switch h {
		case "host", "x-amz-date", "x-amz-security-token":
		case "content-length":
			again.ContentLength = int64(len(body))
		default:
			v, ok := r.Header[http.CanonicalHeaderKey(h)]
			if !ok {
				return http.StatusForbidden, "InvalidSignatureException", "signed header " + h + " is not in the request"
			}
			again.Header[http.CanonicalHeaderKey(h)] = v
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, again, hex.EncodeToString(sum[:]), "ses", c.Region, at); err != nil {
		return http.StatusInternalServerError, "InternalFailure", "the fake could not sign: " + err.Error()
	}
	want := again.Header.Get("Authorization")
	if want != auth {
		return http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
	}
	return 0, "", ""
}

// writeError answers as SES's restJson1 protocol does: the code in the
// X-Amzn-ErrorType header, the message in the body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.Header().Set("X-Amzn-Requestid", messageID())
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"message": message})
}

// messageID is an id shaped like SES's.
func messageID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return "0100" + h[:12] + "-" + h[12:20] + "-" + h[20:] + "-000000"
}
