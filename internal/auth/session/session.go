// Package session resolves, issues, refreshes and clears better-auth
// sessions. Every function (auth, generate, history, imageproxy) resolves
// sessions through the one Manager, so they all agree on who is signed in.
package session

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"adstudio/internal/accesslog"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
)

// better-auth's defaults, which both seed apps use.
const (
	ExpiresIn        = 7 * 24 * time.Hour
	UpdateAge        = 24 * time.Hour
	FreshAge         = 24 * time.Hour
	CacheMaxAge      = 5 * time.Minute
	dontRememberLife = 24 * time.Hour
	dontRememberTTL  = time.Minute // cache lifetime without rememberMe
	maxCookieBytes   = 4050        // larger session_data is chunked by better-auth; we skip the cache
)

// Cookie names (before prefixing).
const (
	TokenCookie        = "session_token"
	DataCookie         = "session_data"
	DontRememberCookie = "dont_remember"
)

// Manager holds what session handling needs.
type Manager struct {
	Store   *authdb.Store
	Cookies cookie.Settings
	Signer  cookie.Signer
	Now     func() time.Time
	// AbsoluteMaxAge ends a session this long after its creation, however
	// often it was refreshed; 0 lets sessions slide forever, as
	// better-auth's do.
	AbsoluteMaxAge time.Duration
}

// Current is a resolved session.
type Current struct {
	Session authdb.Session
	User    authdb.User
	// FromCache is true when the session came from the signed cookie cache
	// without a database read.
	FromCache bool
}

// Options tune one resolution.
type Options struct {
	// UseCache allows answering from the session_data cookie. Only reads use
	// it: a route that changes state always checks the database, so a
	// revoked session cannot act even while its cache cookie is fresh.
	UseCache bool
	// DisableRefresh never extends the session (get-session?disableRefresh).
	DisableRefresh bool
}

// ErrRefreshFailed is better-auth's FAILED_TO_GET_SESSION: the row vanished
// while being refreshed.
var ErrRefreshFailed = errors.New("session refresh failed")

// Get resolves the request's session, writing any cookie changes to h. It
// returns nil, nil when there is no valid session. The request's access
// log line names the session's user.
func (m *Manager) Get(ctx context.Context, h http.Header, r *http.Request, opt Options) (*Current, error) {
	cur, err := m.get(ctx, h, r, opt)
	if cur != nil {
		accesslog.From(ctx).SetUser(cur.User.ID, cur.FromCache)
	}
	return cur, err
}

func (m *Manager) get(ctx context.Context, h http.Header, r *http.Request, opt Options) (*Current, error) {
	jar := cookie.Read(r)
	token, ok := m.Signer.Verify(jar[m.Cookies.Name(TokenCookie)])
	if !ok {
		return nil, nil
	}
	now := m.Store.Stamp(m.Now())
	staleCache := false
	if opt.UseCache {
		if raw, present := m.cacheValue(jar); present {
			if s, u, ok := decodeCache(m.Signer, raw, m.Now()); ok && s.Token == token && !m.pastAbsolute(s, now) {
				return &Current{Session: s, User: u, FromCache: true}, nil
			}
			staleCache = true
		}
	}
	s, u, err := m.Store.SessionWithUser(ctx, token)
	if errors.Is(err, authdb.ErrNotFound) {
		m.Clear(h, r)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !s.ExpiresAt.After(now) || m.pastAbsolute(s, now) {
		m.Clear(h, r)
		// The row is useless now; failing to delete it changes nothing.
		_ = m.Store.DeleteSession(ctx, token)
		return nil, nil
	}
	_, dontRemember := m.Signer.Verify(jar[m.Cookies.Name(DontRememberCookie)])
	if dontRemember || opt.DisableRefresh {
		if staleCache {
			m.Cookies.Expire(h, DataCookie)
		}
		return &Current{Session: s, User: u}, nil
	}
	if !s.ExpiresAt.Add(-ExpiresIn + UpdateAge).After(now) {
		s.ExpiresAt, s.UpdatedAt = m.capExpiry(s, now.Add(ExpiresIn)), now
		if err := m.Store.ExtendSession(ctx, token, s.ExpiresAt, now); err != nil {
			m.Clear(h, r)
			if errors.Is(err, authdb.ErrNotFound) {
				return nil, ErrRefreshFailed
			}
			return nil, err
		}
		m.Issue(h, s, u, false)
		return &Current{Session: s, User: u}, nil
	}
	m.setCache(h, s, u, false)
	return &Current{Session: s, User: u}, nil
}

// Outlived reports whether s has passed its absolute lifetime now.
func (m *Manager) Outlived(s authdb.Session) bool { return m.pastAbsolute(s, m.Now()) }

// pastAbsolute reports whether s has outlived AbsoluteMaxAge at now.
func (m *Manager) pastAbsolute(s authdb.Session, now time.Time) bool {
	return m.AbsoluteMaxAge > 0 && !s.CreatedAt.Add(m.AbsoluteMaxAge).After(now)
}

// capExpiry keeps a refreshed expiry within the absolute lifetime, so the
// row and the cookie end when the session must.
func (m *Manager) capExpiry(s authdb.Session, exp time.Time) time.Time {
	if m.AbsoluteMaxAge > 0 {
		if limit := s.CreatedAt.Add(m.AbsoluteMaxAge); limit.Before(exp) {
			return limit
		}
	}
	return exp
}

// cacheValue returns session_data, joining chunks .0, .1, … when better-auth
// split a large value.
func (m *Manager) cacheValue(jar map[string]string) (string, bool) {
	name := m.Cookies.Name(DataCookie)
	if v, ok := jar[name]; ok {
		return v, true
	}
	var b strings.Builder
	for i := 0; ; i++ {
		v, ok := jar[name+"."+strconv.Itoa(i)]
		if !ok {
			return b.String(), i > 0
		}
		b.WriteString(v)
	}
}

// New builds a session for userID starting now; dontRemember gives it the
// one-day lifetime of rememberMe:false.
func (m *Manager) New(userID string, r *http.Request, ip string, dontRemember bool) authdb.Session {
	now := m.Store.Stamp(m.Now())
	life := ExpiresIn
	if dontRemember {
		life = dontRememberLife
	}
	return authdb.Session{
		ID: authdb.NewID(), Token: authdb.NewID(), UserID: userID,
		ExpiresAt: now.Add(life), CreatedAt: now, UpdatedAt: now,
		IPAddress: ip, UserAgent: r.UserAgent(),
	}
}

// Issue sets the session cookies for s: the signed token, the cache, and for
// a rememberMe:false sign-in the dont_remember marker.
func (m *Manager) Issue(h http.Header, s authdb.Session, u authdb.User, dontRemember bool) {
	maxAge := int(ExpiresIn / time.Second)
	if m.AbsoluteMaxAge > 0 {
		// Near the absolute lifetime the cookie ends with the session.
		if left := int(s.CreatedAt.Add(m.AbsoluteMaxAge).Sub(m.Now()) / time.Second); left < maxAge {
			maxAge = max(left, 1)
		}
	}
	if dontRemember {
		maxAge = cookie.NoMaxAge
	}
	m.Cookies.Set(h, TokenCookie, m.Signer.Sign(s.Token), maxAge)
	m.setCache(h, s, u, dontRemember)
	if dontRemember {
		m.Cookies.Set(h, DontRememberCookie, m.Signer.Sign("true"), cookie.NoMaxAge)
	}
}

func (m *Manager) setCache(h http.Header, s authdb.Session, u authdb.User, dontRemember bool) {
	now := m.Now()
	ttl, maxAge := CacheMaxAge, int(CacheMaxAge/time.Second)
	if dontRemember {
		ttl, maxAge = dontRememberTTL, cookie.NoMaxAge
	}
	v, err := encodeCache(m.Signer, s, u, now, now.Add(ttl))
	if err != nil || len(v) > maxCookieBytes {
		// The cache is an optimisation: without it reads go to the database.
		return
	}
	m.Cookies.Set(h, DataCookie, v, maxAge)
}

// Clear expires every session cookie the request carries or may carry.
func (m *Manager) Clear(h http.Header, r *http.Request) {
	m.Cookies.Expire(h, TokenCookie)
	m.Cookies.Expire(h, DataCookie)
	m.Cookies.Expire(h, DontRememberCookie)
	prefix := m.Cookies.Name(DataCookie) + "."
	for name := range cookie.Read(r) {
		if rest, ok := strings.CutPrefix(name, prefix); ok && rest != "" && strings.Trim(rest, "0123456789") == "" {
			m.Cookies.Expire(h, DataCookie+"."+rest)
		}
	}
}

// DontRemember reports whether the request carries a valid dont_remember
// marker (a rememberMe:false sign-in).
func (m *Manager) DontRemember(r *http.Request) bool {
	_, ok := m.Signer.Verify(cookie.Read(r)[m.Cookies.Name(DontRememberCookie)])
	return ok
}

// Token returns the verified session token of the request, if any.
func (m *Manager) Token(r *http.Request) (string, bool) {
	return m.Signer.Verify(cookie.Read(r)[m.Cookies.Name(TokenCookie)])
}

// Fresh reports whether the session was created within FreshAge.
func (m *Manager) Fresh(s authdb.Session) bool {
	return m.Now().Sub(s.CreatedAt) < FreshAge
}
