// Package auth is the auth function: better-auth's endpoints, /api/me and
// the CORS preflights. It needs the object store only to delete a user's
// images with their account.
package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"adstudio/internal/auth/authapi"
	"adstudio/internal/auth/oauth"
	"adstudio/internal/auth/password"
	"adstudio/internal/awsenv"
	"adstudio/internal/config"
	"adstudio/internal/httpapi"
	"adstudio/internal/mail"
	"adstudio/internal/objectstore"
	"adstudio/internal/profile"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

// Function is the auth function's handlers.
type Function struct {
	API     *authapi.API
	Profile *profile.API
	core    *server.Core
}

// Options are what differs between a Lambda and the local server.
type Options struct {
	// Mail sends the reset and verification mails (Mailer); nil turns
	// those endpoints off.
	Mail mail.Sender
}

// New builds the auth function on c.
func New(c *server.Core, o Options) *Function {
	f := &Function{core: c}
	f.API = &authapi.API{
		Store: c.Auth, Sessions: c.Sessions, Hasher: password.NewHasher(2), Origins: c.Origins,
		Limiter: c.Limiter, Limits: c.Config.RateLimitEnabled, FrontendURL: c.Config.FrontendURL, Now: c.Now,
		BeforeDeleteUser: f.deleteUserObjects,
		Social:           socialConfig(c.Config),
		AuthURL:          c.Config.BaseURL + authapi.BasePath,
		Mail:             o.Mail,
		AppName:          c.Config.Mail.AppName,
		Secrets:          c.Config.Secrets,
		Verification:     c.Config.Mail.Verification,
		Metrics:          c.Metrics,
	}
	f.Profile = &profile.API{Guard: c.Guard, Profiles: &profile.Store{DB: c.DB, UserTable: `"` + c.Auth.UserTable() + `"`}}
	return f
}

// Part binds the auth routes of the route table.
func (f *Function) Part() server.Part {
	a := f.API
	h := func(fn httpapi.Handler) http.Handler { return fn }
	return server.Part{
		Function: routes.Auth,
		Prefix:   "/api/auth/",
		// better-auth's per-IP limits, then its exact method matching.
		Wrap: func(next http.Handler) http.Handler { return a.RateLimit(exactMethods(next)) },
		Handlers: map[string]http.Handler{
			"POST /api/auth/sign-up/email":           a.SignUpEmail(),
			"POST /api/auth/sign-in/email":           a.SignInEmail(),
			"GET /api/auth/get-session":              h(a.GetSession),
			"POST /api/auth/get-session":             a.GetSessionPost(),
			"POST /api/auth/sign-out":                a.SignOut(),
			"GET /api/auth/list-sessions":            h(a.ListSessions),
			"POST /api/auth/revoke-session":          a.RevokeSession(),
			"POST /api/auth/revoke-sessions":         a.RevokeSessions(),
			"POST /api/auth/revoke-other-sessions":   a.RevokeOtherSessions(),
			"POST /api/auth/update-user":             a.UpdateUser(),
			"POST /api/auth/change-password":         a.ChangePassword(),
			"POST /api/auth/change-email":            a.ChangeEmail(),
			"POST /api/auth/delete-user":             a.DeleteUser(),
			"GET /api/auth/list-accounts":            h(a.ListAccounts),
			"POST /api/auth/sign-in/social":          a.SignInSocial(),
			"GET /api/auth/callback/{provider}":      h(a.Callback),
			"POST /api/auth/callback/{provider}":     h(a.CallbackPost),
			"POST /api/auth/link-social":             a.LinkSocial(),
			"POST /api/auth/unlink-account":          a.UnlinkAccount(),
			"POST /api/auth/one-time-token/verify":   a.VerifyOneTimeToken(),
			"POST /api/auth/request-password-reset":  a.RequestPasswordReset(),
			"GET /api/auth/reset-password/{token}":   h(a.ResetPasswordCallback),
			"POST /api/auth/reset-password":          a.ResetPassword(),
			"POST /api/auth/send-verification-email": a.SendVerificationEmail(),
			"GET /api/auth/verify-email":             h(a.VerifyEmail),
			"/api/auth/":                             h(a.NotFound),
			"GET /api/auth/ok":                       h(a.OK),
			"GET /api/auth/error":                    h(a.Error),
			"GET /api/me":                            h(f.Profile.Me),
		},
	}
}

// Mailer builds the mail transport the configuration names, or nil for
// none. awsConfig gives the credentials that sign SES calls (the Lambda's
// role), asked only for SES, whose endpoint getenv may move
// (AWS_ENDPOINT_URL_SESV2, as the SDK reads it: the local gateway's tests
// point it at a fake); log receives the outbox's lines.
func Mailer(cfg config.Config, getenv func(string) string, awsConfig func() (aws.Config, error), log *slog.Logger) (mail.Sender, error) {
	var awsCfg aws.Config
	if cfg.Mail.Transport == config.MailSES {
		var err error
		if awsCfg, err = awsConfig(); err != nil {
			return nil, err
		}
	}
	m, err := mail.New(mail.Config{
		Transport: cfg.Mail.Transport, From: cfg.Mail.From, SMTPURL: cfg.Mail.SMTPURL, OutboxDir: cfg.Mail.OutboxDir,
		SESEndpoint: awsenv.ConfiguredEndpoint(getenv, "SESv2"),
	}, awsCfg, log)
	if errors.Is(err, mail.ErrNoTransport) {
		return nil, nil
	}
	return m, err
}

// Handler is the function's whole http.Handler.
func (f *Function) Handler() (http.Handler, error) { return f.core.Handler(f.Part()) }

// deleteUserObjects removes every stored object of a user who deletes their
// account, before the rows go (a failure keeps the account, so it can be
// retried instead of leaving unreachable images behind).
func (f *Function) deleteUserObjects(ctx context.Context, userID string) error {
	if f.core.Objects == nil {
		return nil
	}
	for _, p := range objectstore.UserPrefixes(userID) {
		if err := f.core.Objects.DeletePrefix(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// exactMethods refuses HEAD below /api/auth: better-auth's router matches
// methods exactly, while ServeMux would run GET handlers for it.
func exactMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// socialConfig builds the configured OAuth providers. Their HTTP client has
// a timeout of its own: a provider that hangs must not hold a Lambda until
// its deadline.
func socialConfig(cfg config.Config) authapi.Social {
	hc := &http.Client{Timeout: 10 * time.Second}
	providers := map[string]*oauth.Provider{}
	if c, ok := cfg.OAuth["google"]; ok {
		providers["google"] = oauth.NewGoogle(c.ClientID, c.ClientSecret, oauth.Endpoints{AuthURL: c.AuthURL, TokenURL: c.TokenURL}, hc)
	}
	if c, ok := cfg.OAuth["github"]; ok {
		ep := oauth.Endpoints{AuthURL: c.AuthURL, TokenURL: c.TokenURL}
		if c.APIURL != "" {
			ep.UserURL, ep.EmailsURL = c.APIURL+"/user", c.APIURL+"/user/emails"
		}
		providers["github"] = oauth.NewGitHub(c.ClientID, c.ClientSecret, ep, hc)
	}
	return authapi.Social{Providers: providers, Tokens: oauth.NewTokenCipher(cfg.Secrets), BaseURL: cfg.BaseURL, TrustedProviders: cfg.TrustedProviders}
}
