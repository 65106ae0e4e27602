// Package safefetch downloads a user-supplied URL without that being a way
// into our own network: on Lambda the Runtime API listens on loopback and the
// instance metadata service on link-local addresses, and neither may be
// reached through a reference image URL or a redirect.
//
// The address check runs at dial time on the address actually dialled, after
// resolution, so a name that resolves differently between a check and the
// connect (DNS rebinding) gains nothing.
package safefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults applied by New to zero Options fields; they match the reference
// download rules of docs/app-api.md §9.4.
const (
	DefaultMaxBytes     = 10 << 20
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 3
)

// redirectDrainBytes bounds how much of a redirect body is read so its
// connection can be reused; a larger body just costs the connection.
const redirectDrainBytes = 64 << 10

// Options configures a Fetcher. Zero fields take the defaults above.
type Options struct {
	// MaxBytes caps the body; default 10 MiB.
	MaxBytes int64
	// Timeout bounds the whole Get, redirects and body included; default 15 s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed; default 3, negative
	// means none.
	MaxRedirects int
	// AllowHosts are exact host:port pairs (as in the URL, default port
	// spelled out) exempt from every host and address check. For tests and
	// local fakes only; never fill it from user input.
	AllowHosts []string
	// Resolver resolves host names; default net.DefaultResolver.
	Resolver *net.Resolver
}

// Result is a successful download.
type Result struct {
	Body []byte
	// ContentType is the final response's Content-Type header, unparsed
	// (callers normalise it their own way: docs/generation.md "Copying a
	// result" vs docs/app-api.md §9.4).
	ContentType string
	// FinalURL is the URL the body came from, after redirects.
	FinalURL string
}

// Fetcher downloads URLs under the rules in the package comment. It is safe
// for concurrent use and meant to be built once per process, so connections
// are reused.
type Fetcher struct {
	maxBytes     int64
	timeout      time.Duration
	maxRedirects int
	allow        map[string]bool
	transport    *http.Transport
	guarded      net.Dialer // dials only checked addresses; Control re-checks
	plain        net.Dialer // for AllowHosts only

	// lookup resolves a host name; tests replace it to simulate a public
	// name that resolves to a private address.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// New builds a Fetcher from o.
func New(o Options) *Fetcher {
	f := &Fetcher{
		maxBytes:     o.MaxBytes,
		timeout:      o.Timeout,
		maxRedirects: o.MaxRedirects,
		allow:        make(map[string]bool, len(o.AllowHosts)),
	}
	if f.maxBytes <= 0 {
		f.maxBytes = DefaultMaxBytes
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	switch {
	case f.maxRedirects == 0:
		f.maxRedirects = DefaultMaxRedirects
	case f.maxRedirects < 0:
		f.maxRedirects = 0
	}
	for _, h := range o.AllowHosts {
		f.allow[strings.ToLower(h)] = true
	}
	resolver := o.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	f.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		return resolver.LookupNetIP(ctx, "ip", host)
	}
	// Second line of defence: whatever path led to this dial, the socket is
	// refused before connect if its peer address is blocked.
	f.guarded.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || BlockedIP(ap.Addr()) {
			return &Error{Kind: KindBlockedHost, Err: fmt.Errorf("dial to %s refused", address)}
		}
		return nil
	}
	f.transport = &http.Transport{
		Proxy:                  nil, // never an environment proxy: it would dial for us, unchecked
		DialContext:            f.dialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		DisableCompression:     true, // count the bytes the server sends, not a decompressed stream
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	return f
}

// Get downloads rawURL, following up to MaxRedirects redirects, and returns
// the body. Every error is an *Error.
func (f *Fetcher) Get(ctx context.Context, rawURL string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	u, err := url.Parse(rawURL)
	if err != nil {
		return Result{}, &Error{Kind: KindInvalidURL, Err: err}
	}
	if err := f.checkURL(u, false); err != nil {
		return Result{}, err
	}
	for hop := 0; ; hop++ {
		redirected := hop > 0
		resp, err := f.roundTrip(ctx, u)
		if err != nil {
			return Result{}, dialError(err, u.Host, redirected)
		}
		if !isRedirect(resp.StatusCode) {
			return f.read(resp, u, redirected)
		}
		loc := resp.Header.Get("Location")
		drain(resp)
		if hop >= f.maxRedirects {
			return Result{}, &Error{Kind: KindTooManyRedirects, Redirect: true, Host: u.Host}
		}
		if loc == "" {
			return Result{}, &Error{Kind: KindRedirectMissingLocation, Redirect: true, Host: u.Host}
		}
		next, err := u.Parse(loc)
		if err != nil {
			return Result{}, &Error{Kind: KindRedirectInvalid, Redirect: true, Host: u.Host, Err: err}
		}
		if err := f.checkURL(next, true); err != nil {
			return Result{}, err
		}
		u = next
	}
}

// checkURL applies the checks that need no network: scheme, shape and the
// host-name rules of docs/app-api.md §9.4. Addresses are checked later, at
// dial time.
func (f *Fetcher) checkURL(u *url.URL, redirected bool) error {
	invalid := KindInvalidURL
	if redirected {
		invalid = KindRedirectInvalid
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Error{Kind: KindBadScheme, Redirect: redirected, Err: fmt.Errorf("scheme %q", u.Scheme)}
	}
	// net/url leaves "http:example.com" opaque with no host; such a URL
	// cannot be requested anyway.
	if u.Opaque != "" || u.Hostname() == "" {
		return &Error{Kind: invalid, Redirect: redirected, Err: errors.New("no host")}
	}
	if u.User != nil {
		return &Error{Kind: invalid, Redirect: redirected, Host: u.Host, Err: errors.New("userinfo in URL")}
	}
	if f.allow[hostPort(u)] {
		return nil
	}
	if blockedHostname(u.Hostname()) {
		return &Error{Kind: KindBlockedHost, Redirect: redirected, Host: u.Host, Err: errors.New("host name refused")}
	}
	return nil
}

// hostPort is the host:port the transport will dial for u, lower-cased, as
// AllowHosts entries are written.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

func (f *Fetcher) roundTrip(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	// The transport, not http.Client: redirects are ours to follow.
	return f.transport.RoundTrip(req)
}

func (f *Fetcher) read(resp *http.Response, u *url.URL, redirected bool) (Result, error) {
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return Result{}, &Error{Kind: KindDownloadFailed, Redirect: redirected, Host: u.Host, Err: fmt.Errorf("status %d", resp.StatusCode)}
	}
	if resp.ContentLength > f.maxBytes {
		return Result{}, &Error{Kind: KindTooLarge, Redirect: redirected, Host: u.Host, Err: fmt.Errorf("content-length %d", resp.ContentLength)}
	}
	// One byte past the cap tells "exactly MaxBytes" from "more".
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return Result{}, &Error{Kind: KindDownloadFailed, Redirect: redirected, Host: u.Host, Err: err}
	}
	if int64(len(body)) > f.maxBytes {
		return Result{}, &Error{Kind: KindTooLarge, Redirect: redirected, Host: u.Host, Err: errors.New("body exceeds limit")}
	}
	if len(body) == 0 {
		return Result{}, &Error{Kind: KindEmpty, Redirect: redirected, Host: u.Host}
	}
	return Result{Body: body, ContentType: resp.Header.Get("Content-Type"), FinalURL: u.String()}, nil
}

// dialContext resolves addr itself, refuses it if any resolved address is
// blocked, and dials the checked IPs directly so no second lookup can
// return something else.
func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if f.allow[strings.ToLower(addr)] {
		return f.plain.DialContext(ctx, network, addr)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", portStr)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = f.lookup(ctx, host); err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no addresses for %s", host)
	}
	// Any blocked answer refuses the host, rather than skipping to a public
	// one: a name that mixes public and private answers is not trustworthy.
	for _, ip := range ips {
		if BlockedIP(ip) {
			return nil, &Error{Kind: KindBlockedHost, Host: host, Err: fmt.Errorf("resolves to %s", ip)}
		}
	}
	var errs []error
	for _, ip := range ips {
		c, err := f.guarded.DialContext(ctx, network, netip.AddrPortFrom(ip.Unmap(), uint16(port)).String())
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// dialError turns a round-trip failure into an *Error, keeping a dial-time
// refusal distinct from an ordinary network failure.
func dialError(err error, host string, redirected bool) error {
	if KindOf(err) == KindBlockedHost {
		return &Error{Kind: KindBlockedHost, Redirect: redirected, Host: host, Err: err}
	}
	return &Error{Kind: KindDownloadFailed, Redirect: redirected, Host: host, Err: err}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, redirectDrainBytes))
	_ = resp.Body.Close()
}
