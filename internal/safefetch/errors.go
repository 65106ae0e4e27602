package safefetch

import (
	"errors"
	"fmt"
)

// Kind classifies a fetch failure so a caller can pick its response
// (docs/app-api.md §9.4) without looking at the cause.
type Kind int

// The kinds of failure, one per user-visible message in docs/app-api.md §9.4.
const (
	// KindInvalidURL: the URL does not parse, has no host, or carries userinfo.
	KindInvalidURL Kind = iota + 1
	// KindBadScheme: the scheme is not http or https.
	KindBadScheme
	// KindBlockedHost: the host name or an address it resolves to is not public.
	KindBlockedHost
	// KindTooManyRedirects: more than Options.MaxRedirects redirects.
	KindTooManyRedirects
	// KindRedirectMissingLocation: a redirect status without a Location header.
	KindRedirectMissingLocation
	// KindRedirectInvalid: a Location that does not parse, has no host, or
	// carries userinfo.
	KindRedirectInvalid
	// KindTooLarge: Content-Length or the streamed body exceeds Options.MaxBytes.
	KindTooLarge
	// KindDownloadFailed: network error, timeout, or a non-2xx final status.
	KindDownloadFailed
	// KindEmpty: a 2xx response with no body bytes.
	KindEmpty
)

// String names the kind for logs. A switch rather than a map: nothing to
// build at cold start, and nothing a caller could change.
func (k Kind) String() string {
	switch k {
	case KindInvalidURL:
		return "invalid url"
	case KindBadScheme:
		return "bad scheme"
	case KindBlockedHost:
		return "blocked host"
	case KindTooManyRedirects:
		return "too many redirects"
	case KindRedirectMissingLocation:
		return "redirect missing location"
	case KindRedirectInvalid:
		return "redirect invalid"
	case KindTooLarge:
		return "too large"
	case KindDownloadFailed:
		return "download failed"
	case KindEmpty:
		return "empty body"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is every error Get returns. Message is safe to show the client;
// Error() adds the cause and is for logs only.
type Error struct {
	Kind Kind
	// Redirect is set when the failure concerns a redirect target rather than
	// the URL the caller passed; docs/app-api.md §9.4 words those messages differently.
	Redirect bool
	// Host is the host being fetched when the failure happened (no path or
	// query, which may hold signatures).
	Host string
	// Err is the underlying cause, if any.
	Err error
}

func (e *Error) Error() string {
	s := "safefetch: " + e.Kind.String()
	if e.Redirect {
		s += " (redirect)"
	}
	if e.Host != "" {
		s += " " + e.Host
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Message returns the user message for the failure (docs/app-api.md §9.4,
// the download rules).
func (e *Error) Message() string {
	switch e.Kind {
	case KindInvalidURL:
		return "referenceImageUrl must be an http(s) URL, a supported internal /api URL, or Base64 data URL."
	case KindBadScheme:
		if e.Redirect {
			return "referenceImageUrl redirect target must use http or https."
		}
		return "referenceImageUrl must use http or https."
	case KindBlockedHost:
		if e.Redirect {
			return "referenceImageUrl redirect target host is not allowed. Use a public image URL."
		}
		return "referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."
	case KindTooManyRedirects:
		return "referenceImageUrl has too many redirects."
	case KindRedirectMissingLocation:
		return "referenceImageUrl redirect is missing a location header."
	case KindRedirectInvalid:
		return "referenceImageUrl redirect target is invalid."
	case KindTooLarge:
		return "Reference image must be 10MB or smaller."
	case KindEmpty:
		return "Could not read reference image bytes."
	default:
		return "Could not download reference image from URL."
	}
}

// KindOf returns the Kind of the *Error in err's chain, or 0 if there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
