package oauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// UserInfo is the profile better-auth keeps from a provider (docs/auth-wire.md §8.6). ID is the provider's
// subject, the account's accountId.
type UserInfo struct {
	ID, Name, Email string
	EmailVerified   bool
	Image           *string
}

// maxProfileBody caps what is read from a profile endpoint; real answers are a few KB.
const maxProfileBody = 1 << 20

// UserInfo reads the profile behind t (docs/auth-wire.md §8.6). A missing email is not an error: the result has
// Email "" and the caller answers email_not_found. Every other failure is an *Error that is ErrUserInfo.
func (p *Provider) UserInfo(ctx context.Context, t *Tokens) (*UserInfo, error) {
	var (
		u   *UserInfo
		err error
	)
	step := StepIDToken
	if p.id == Google {
		u, err = googleUser(t)
		if err != nil {
			err = &Error{Provider: p.id, Step: step, Cause: err}
		}
	} else {
		step = StepUser
		u, err = p.githubUser(ctx, t)
	}
	if err != nil {
		return nil, err
	}
	// An empty subject cannot key an account; better-auth rejects it the same way
	// (OAUTH_ACCOUNT_SUBJECT_INVALID → unable_to_get_user_info).
	if strings.TrimSpace(u.ID) == "" {
		return nil, &Error{Provider: p.id, Step: step, Cause: errors.New("empty subject")}
	}
	u.Email = strings.ToLower(u.Email)
	return u, nil
}

// googleUser reads the claims of the ID token. Its signature is not checked: the token came
// straight from Google's token endpoint over TLS, in exchange for our client secret, which is
// what OpenID Connect Core §3.1.3.7 allows and what better-auth does.
func googleUser(t *Tokens) (*UserInfo, error) {
	if t == nil || t.IDToken == "" {
		return nil, errors.New("token response has no id_token")
	}
	parts := strings.Split(t.IDToken, ".")
	if len(parts) != 3 {
		return nil, errors.New("id_token is not a JWT")
	}
	// Tolerate padding: JWTs must not have it, but a lenient decoder costs nothing here.
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("id_token payload: %w", err)
	}
	var c struct {
		Sub           string          `json:"sub"`
		Name          string          `json:"name"`
		Email         string          `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		Picture       string          `json:"picture"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("id_token claims: %w", err)
	}
	u := &UserInfo{ID: c.Sub, Name: c.Name, Email: c.Email, EmailVerified: truthy(c.EmailVerified)}
	if c.Picture != "" {
		u.Image = &c.Picture
	}
	return u, nil
}

// truthy reads a boolean claim that some issuers send as the string "true".
func truthy(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s == "true" || s == `"true"`
}

type githubProfile struct {
	Login     string      `json:"login"`
	ID        json.Number `json:"id"`
	Name      *string     `json:"name"`
	Email     *string     `json:"email"`
	AvatarURL *string     `json:"avatar_url"`
}

type githubEmail struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// githubUser reads /user and always /user/emails: /user shows only a public email, and only the
// list says whether an address is verified. Its failures are *Errors with the status GitHub
// answered; an error body is not read (it is GitHub's message, which the status already says).
func (p *Provider) githubUser(ctx context.Context, t *Tokens) (*UserInfo, error) {
	if t == nil || t.AccessToken == "" {
		return nil, &Error{Provider: p.id, Step: StepUser, Cause: errors.New("no access token")}
	}
	var prof githubProfile
	if status, err := p.githubGet(ctx, p.ep.UserURL, t.AccessToken, &prof); err != nil || status != http.StatusOK {
		return nil, &Error{Provider: p.id, Step: StepUser, Status: status, Cause: err}
	}
	if _, err := prof.ID.Int64(); err != nil {
		return nil, &Error{Provider: p.id, Step: StepUser, Status: http.StatusOK, Cause: fmt.Errorf("user id %q: %w", prof.ID, err)}
	}

	// better-auth ignores an error answer from /user/emails (the profile then keeps only its
	// public email, unverified); a transport failure still fails the sign-in.
	var emails []githubEmail
	if status, err := p.githubGet(ctx, p.ep.EmailsURL, t.AccessToken, &emails); err != nil {
		return nil, &Error{Provider: p.id, Step: StepUserEmails, Status: status, Cause: err}
	} else if status != http.StatusOK {
		emails = nil
	}

	email := deref(prof.Email)
	if email == "" && len(emails) > 0 {
		email = emails[0].Email
		for _, e := range emails {
			if e.Primary {
				email = e.Email
				break
			}
		}
	}
	u := &UserInfo{ID: prof.ID.String(), Email: email}
	if prof.AvatarURL != nil && *prof.AvatarURL != "" {
		u.Image = prof.AvatarURL
	}
	for _, e := range emails {
		if e.Email == email {
			u.EmailVerified = e.Verified
			break
		}
	}
	u.Name = deref(prof.Name)
	if u.Name == "" {
		u.Name = prof.Login
	}
	return u, nil
}

// githubGet GETs an API URL with GitHub's headers and decodes a 200 answer into v. It returns the
// status; non-200 bodies are discarded.
func (p *Provider) githubGet(ctx context.Context, url, accessToken string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	// GitHub's API refuses requests without a User-Agent; better-auth names itself.
	req.Header.Set("User-Agent", "better-auth")
	req.Header.Set("Accept", "application/vnd.github+json")
	res, err := p.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxProfileBody))
	if err != nil {
		return 0, fmt.Errorf("read body: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return res.StatusCode, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // ids stay exact whatever their size
	if err := dec.Decode(v); err != nil {
		return res.StatusCode, fmt.Errorf("decode: %w", err)
	}
	return res.StatusCode, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
