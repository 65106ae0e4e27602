package qwen

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"adstudio/internal/httpapi"
)

// Error codes of upstream failures: the app API's, whose spelling lives in
// internal/httpapi/codes.go (docs/dashscope.md §9.2, docs/app-api.md §8.6).
const (
	CodeTimeout           = httpapi.CodeUpstreamTimeout
	CodeUnavailable       = httpapi.CodeUpstreamUnavailable
	CodePolicyViolation   = httpapi.CodeUpstreamPolicyViolation
	CodeInvalidParameter  = httpapi.CodeUpstreamInvalidParameter
	CodeAuthError         = httpapi.CodeUpstreamAuthError
	CodeRateLimited       = httpapi.CodeUpstreamRateLimited
	CodeRequestFailed     = httpapi.CodeUpstreamRequestFailed
	CodeMalformedResponse = httpapi.CodeUpstreamMalformedResponse
)

// Messages of docs/dashscope.md §9.2. Rows 5 and 8 prefer the provider's own message.
const (
	MsgTimeout           = "Image provider request timed out."
	MsgConnectFailed     = "Failed to connect to image provider."
	MsgPolicyViolation   = "Request was rejected by provider safety checks."
	MsgUnavailable       = "Image provider is currently unavailable."
	MsgInvalidParameter  = "Image provider rejected request parameters."
	MsgAuthError         = "Image provider authentication failed."
	MsgRateLimited       = "Image provider rate limit exceeded."
	MsgRequestFailed     = "Image provider request failed."
	MsgMalformedResponse = "Image provider returned an invalid response body."
)

// Provider error codes the mapping tests for (docs/dashscope.md §9.1). Comparisons are
// exact and case-sensitive.
const (
	providerDataInspectionFailed = "DataInspectionFailed"
	providerInvalidParameter     = "InvalidParameter"
	providerInvalidAPIKey        = "InvalidApiKey"
)

// Error is an upstream failure as the client must see it: Status (502, or
// 504 for the timeout), Code and Message go into the normalized error body,
// ProviderCode and ProviderRequestID into its providerCode and
// providerRequestId members when non-empty. Err is the underlying cause for
// the log only; it never reaches a response.
type Error struct {
	Status            int
	Code              string
	Message           string
	ProviderCode      string
	ProviderRequestID string
	Err               error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("qwen: ")
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	if e.ProviderCode != "" {
		b.WriteString(" (provider code " + e.ProviderCode + ")")
	}
	if e.ProviderRequestID != "" {
		b.WriteString(" [request " + e.ProviderRequestID + "]")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes the cause, so errors.Is(err, context.DeadlineExceeded)
// works on a timeout.
func (e *Error) Unwrap() error { return e.Err }

// mapProviderError is rows 3–8 of docs/dashscope.md §9.2, in that order. code
// and message are the body's non-blank strings (or empty); requestID is the
// one of docs/dashscope.md §8.1.
func mapProviderError(status int, code, message, requestID string) *Error {
	e := &Error{Status: http.StatusBadGateway, ProviderCode: code, ProviderRequestID: requestID}
	orDefault := func(def string) string {
		if message != "" {
			return truncate(message, maxProviderMessage)
		}
		return def
	}
	switch {
	case code == providerDataInspectionFailed:
		e.Code, e.Message = CodePolicyViolation, MsgPolicyViolation
	case status >= 500:
		e.Code, e.Message = CodeUnavailable, MsgUnavailable
	case code == providerInvalidParameter:
		e.Code, e.Message = CodeInvalidParameter, orDefault(MsgInvalidParameter)
	case code == providerInvalidAPIKey:
		e.Code, e.Message = CodeAuthError, MsgAuthError
	case status == http.StatusTooManyRequests:
		e.Code, e.Message = CodeRateLimited, MsgRateLimited
	default:
		e.Code, e.Message = CodeRequestFailed, orDefault(MsgRequestFailed)
	}
	return e
}

// maxProviderMessage bounds a provider message passed on to the client and
// stored with the failed generation: DashScope's run to a sentence or two,
// and nothing the provider says may make a row unbounded.
const maxProviderMessage = 500

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
