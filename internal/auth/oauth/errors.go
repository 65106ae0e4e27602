package oauth

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Steps of a sign-in at the provider, as an Error names them.
const (
	StepTokenExchange = "token_exchange" // POST to the token endpoint
	StepIDToken       = "id_token"       // Google: the claims of the token response's id_token
	StepUser          = "user"           // GitHub: GET /user
	StepUserEmails    = "user_emails"    // GitHub: GET /user/emails
)

// Error is a failed call to a provider: which provider, at which step, and
// what it answered. Its text is meant for the log, so it holds none of what
// a sign-in must keep secret: never the authorization code, the verifier, a
// token, the client secret or a response body (a token endpoint's body may
// hold tokens), only the status and the OAuth error code. Cause is the
// underlying error, for errors.Is (context.DeadlineExceeded, …); its text
// is left out when it quotes a body (oauth2.RetrieveError does).
//
// Every Error of the exchange is also ErrExchange, every other one
// ErrUserInfo.
type Error struct {
	Provider string // Google or GitHub
	Step     string // Step…
	Status   int    // the provider's HTTP status; 0 when it did not answer
	Code     string // the provider's OAuth error code ("invalid_grant"), when it sent one
	Cause    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("oauth: " + e.Provider + " " + e.Step + " failed")
	sep := ": "
	if e.Status != 0 {
		b.WriteString(sep + "status " + strconv.Itoa(e.Status))
		sep = ", "
	}
	if e.Code != "" {
		b.WriteString(sep + "error " + strconv.Quote(e.Code))
		sep = ", "
	}
	var quotesBody *oauth2.RetrieveError
	if e.Cause != nil && !errors.As(e.Cause, &quotesBody) {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports ErrExchange for a failed exchange and ErrUserInfo for a failed
// profile read.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrExchange:
		return e.Step == StepTokenExchange
	case ErrUserInfo:
		return e.Step != StepTokenExchange
	}
	return false
}

// exchangeError describes a failed code exchange. A refusal the token
// endpoint answered (an error status, or GitHub's 200 with "error") is an
// *oauth2.RetrieveError, whose status and error code are kept; anything
// else (no answer, an answer without a token) keeps its text, which quotes
// no body.
func (p *Provider) exchangeError(err error) *Error {
	e := &Error{Provider: p.id, Step: StepTokenExchange, Cause: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil {
			e.Status = re.Response.StatusCode
		}
		e.Code = re.ErrorCode
	}
	return e
}
