package oauth

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Tokens is a token response mapped as better-auth maps it (docs/auth-wire.md §8.5).
type Tokens struct {
	AccessToken, RefreshToken, IDToken string
	// AccessTokenExpiresAt and RefreshTokenExpiresAt are now + expires_in and
	// now + refresh_token_expires_in; nil when the provider sent none (GitHub OAuth apps).
	AccessTokenExpiresAt, RefreshTokenExpiresAt *time.Time
	// Scopes is the response's "scope". better-auth splits it on whitespace only and stores
	// the parts joined with ",", so GitHub's "read:user,user:email" is stored unchanged either
	// way; splitting on commas too gives the caller real scope names.
	Scopes []string
}

// Exchange trades an authorization code for tokens (docs/auth-wire.md §8.5): grant_type=authorization_code with
// the PKCE verifier and the client credentials in the form body. Every failure, including a
// GitHub 200 answer that carries "error", is an *Error that is ErrExchange.
func (p *Provider) Exchange(ctx context.Context, code, codeVerifier, redirectURI string) (*Tokens, error) {
	cfg := oauth2.Config{
		ClientID:     p.clientID,
		ClientSecret: p.clientSecret,
		RedirectURL:  redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:  p.ep.AuthURL,
			TokenURL: p.ep.TokenURL,
			// client_secret_post, as better-auth sends it; without a fixed style x/oauth2
			// would first try Basic and retry on failure, sending the code twice.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.tokenHC)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return nil, p.exchangeError(err)
	}
	now := p.now()
	t := &Tokens{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		IDToken:      extraString(tok, "id_token"),
		Scopes:       splitScopes(tok.Extra("scope")),
	}
	if s, ok := extraSeconds(tok, "expires_in"); ok {
		at := now.Add(s)
		t.AccessTokenExpiresAt = &at
	}
	if s, ok := extraSeconds(tok, "refresh_token_expires_in"); ok {
		at := now.Add(s)
		t.RefreshTokenExpiresAt = &at
	}
	return t, nil
}

func extraString(tok *oauth2.Token, key string) string {
	s, _ := tok.Extra(key).(string)
	return s
}

// extraSeconds reads a lifetime in seconds, which arrives as a JSON number, a JSON string
// (PayPal-style) or a form value. Zero or absent means "no expiry", as in better-auth.
func extraSeconds(tok *oauth2.Token, key string) (time.Duration, bool) {
	var n float64
	switch v := tok.Extra(key).(type) {
	case float64:
		n = v
	case int64: // x/oauth2 parses form-encoded numbers
		n = float64(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return 0, false
		}
		n = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, false
		}
		n = f
	default:
		return 0, false
	}
	if n <= 0 || math.IsNaN(n) || n > math.MaxInt32 {
		return 0, false
	}
	return time.Duration(n * float64(time.Second)), true
}

// splitScopes accepts a space- or comma-separated string, or an array of strings.
func splitScopes(v any) []string {
	var parts []string
	switch s := v.(type) {
	case string:
		parts = strings.FieldsFunc(s, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
		})
	case []any:
		for _, e := range s {
			if str, ok := e.(string); ok {
				parts = append(parts, strings.TrimSpace(str))
			}
		}
	}
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
