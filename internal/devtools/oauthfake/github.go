package oauthfake

import (
	"net/http"
	"strconv"
	"strings"

	"adstudio/internal/auth/oauth"
)

// bearer returns who an API request's access token belongs to. GitHub accepts both
// "Bearer <token>" and the older "token <token>".
func (s *Server) bearer(r *http.Request) (identity, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || (!strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token")) {
		return identity{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.tokens[strings.TrimSpace(tok)]
	if is == nil || is.provider != oauth.GitHub {
		return identity{}, false
	}
	return is.who, true
}

func badCredentials(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{
		"message":           "Bad credentials",
		"documentation_url": "https://docs.github.com/rest",
		"status":            "401",
	})
}

// githubUserBody is the part of GitHub's /user answer that sign-in uses, in GitHub's order.
type githubUserBody struct {
	Login     string  `json:"login"`
	ID        uint64  `json:"id"`
	NodeID    string  `json:"node_id"`
	AvatarURL string  `json:"avatar_url"`
	HTMLURL   string  `json:"html_url"`
	Type      string  `json:"type"`
	SiteAdmin bool    `json:"site_admin"`
	Name      *string `json:"name"`
	Email     *string `json:"email"`
}

func (s *Server) githubUser(w http.ResponseWriter, r *http.Request) {
	who, ok := s.bearer(r)
	if !ok {
		badCredentials(w)
		return
	}
	if who.badUser {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Server Error"})
		return
	}
	id := who.githubID()
	body := githubUserBody{
		Login:     who.login,
		ID:        id,
		NodeID:    "U_fake" + strconv.FormatUint(id, 36),
		AvatarURL: "https://avatars.githubusercontent.com/u/" + strconv.FormatUint(id, 10) + "?v=4",
		HTMLURL:   "https://github.com/" + who.login,
		Type:      "User",
	}
	// GitHub sends null, not "", for an unset name and for an email the user keeps private.
	if who.name != "" {
		body.Name = &who.name
	}
	if who.email != "" && !who.private {
		body.Email = &who.email
	}
	writeJSON(w, http.StatusOK, body)
}

type githubEmailBody struct {
	Email      string  `json:"email"`
	Primary    bool    `json:"primary"`
	Verified   bool    `json:"verified"`
	Visibility *string `json:"visibility"`
}

func (s *Server) githubEmails(w http.ResponseWriter, r *http.Request) {
	who, ok := s.bearer(r)
	if !ok {
		badCredentials(w)
		return
	}
	list := []githubEmailBody{}
	if who.email != "" {
		visibility := "public"
		if who.private {
			visibility = "private"
			// A secondary address listed first, so a client must pick the primary entry
			// rather than the first one.
			list = append(list, githubEmailBody{
				Email:    who.login + "@users.noreply.github.com",
				Verified: true,
			})
		}
		list = append(list, githubEmailBody{
			Email:      who.email,
			Primary:    true,
			Verified:   !who.unverified,
			Visibility: &visibility,
		})
	}
	writeJSON(w, http.StatusOK, list)
}
