package httpapi

// Every error code this server sends, spelled exactly as the specs spell
// them, so a grep finds each use and a typo is a compile error. The two
// dialects keep separate constants even where they spell a code the same
// way (UNAUTHORIZED, INVALID_ORIGIN, …): each follows its own spec, and
// better-auth's may change with a release while the app API's may not.
// codes_test.go keeps it so: a string literal anywhere under internal/ that
// equals one of these values, outside this file, fails it.

// The application API's codes: "code" of its normalized error
// {"error":{"code","message",…},"requestId"} (docs/app-api.md §19).
const (
	CodeInvalidRequest       = "INVALID_REQUEST"        // 400, workflow validation
	CodeUnauthorized         = "UNAUTHORIZED"           // 401, no session
	CodeOutOfCredits         = "OUT_OF_CREDITS"         // 402, balance exhausted
	CodeEmailNotVerified     = "EMAIL_NOT_VERIFIED"     // 402, free credits wait for a verified address
	CodeMissingOrNullOrigin  = "MISSING_OR_NULL_ORIGIN" // 403, a cookie-carrying write without an Origin
	CodeInvalidOrigin        = "INVALID_ORIGIN"         // 403, an untrusted Origin
	CodeInvalidRedirectURL   = "INVALID_REDIRECT_URL"   // 403, a checkout's return URL off the trusted origins
	CodeInvalidSignature     = "INVALID_SIGNATURE"      // 400, a Stripe webhook whose signature fails or is stale
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"      // 413, workflow body over its cap
	CodeIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED" // 422, a key replayed with another request
	CodeRateLimited          = "RATE_LIMITED"           // 429, a per-user limit
	CodeBackendMisconfigured = "BACKEND_MISCONFIGURED"  // 500, provider or bucket not configured
	CodeInternalServerError  = "INTERNAL_SERVER_ERROR"  // 500, anything unexpected (see Internal)
	CodeNotImplemented       = "NOT_IMPLEMENTED"        // 501, the video workflow

	// Provider failures (docs/dashscope.md §9.2): 502, or 504 for the timeout.
	CodeUpstreamTimeout           = "UPSTREAM_TIMEOUT"
	CodeUpstreamUnavailable       = "UPSTREAM_UNAVAILABLE"
	CodeUpstreamPolicyViolation   = "UPSTREAM_POLICY_VIOLATION"
	CodeUpstreamInvalidParameter  = "UPSTREAM_INVALID_PARAMETER"
	CodeUpstreamAuthError         = "UPSTREAM_AUTH_ERROR"
	CodeUpstreamRateLimited       = "UPSTREAM_RATE_LIMITED"
	CodeUpstreamRequestFailed     = "UPSTREAM_REQUEST_FAILED"
	CodeUpstreamMalformedResponse = "UPSTREAM_MALFORMED_RESPONSE"

	// CodeDeleted is never an error response: it is the errorCode a
	// generation deleted while pending keeps, which history shows.
	CodeDeleted = "DELETED"
)

// better-auth's codes: "code" of its envelope {"message","code"} below
// /api/auth (docs/auth-wire.md §2).
const (
	AuthCodeValidationError                      = "VALIDATION_ERROR"
	AuthCodeBadRequest                           = "BAD_REQUEST"
	AuthCodeInvalidEmail                         = "INVALID_EMAIL"
	AuthCodePasswordTooShort                     = "PASSWORD_TOO_SHORT"
	AuthCodePasswordTooLong                      = "PASSWORD_TOO_LONG"
	AuthCodeInvalidPassword                      = "INVALID_PASSWORD"
	AuthCodeCredentialAccountNotFound            = "CREDENTIAL_ACCOUNT_NOT_FOUND"
	AuthCodeEmailCanNotBeUpdated                 = "EMAIL_CAN_NOT_BE_UPDATED"
	AuthCodeSessionExpired                       = "SESSION_EXPIRED"
	AuthCodeFailedToUnlinkLastAccount            = "FAILED_TO_UNLINK_LAST_ACCOUNT"
	AuthCodeAccountNotFound                      = "ACCOUNT_NOT_FOUND"
	AuthCodeInvalidToken                         = "INVALID_TOKEN"
	AuthCodeUserNotFound                         = "USER_NOT_FOUND"
	AuthCodeResetPasswordDisabled                = "RESET_PASSWORD_DISABLED"
	AuthCodeVerificationEmailNotEnabled          = "VERIFICATION_EMAIL_NOT_ENABLED"
	AuthCodeEmailMismatch                        = "EMAIL_MISMATCH"
	AuthCodeEmailAlreadyVerified                 = "EMAIL_ALREADY_VERIFIED"
	AuthCodeEmailNotVerified                     = "EMAIL_NOT_VERIFIED"
	AuthCodeTokenExpired                         = "TOKEN_EXPIRED"
	AuthCodeInvalidUser                          = "INVALID_USER"
	AuthCodeUnauthorized                         = "UNAUTHORIZED"
	AuthCodeInvalidEmailOrPassword               = "INVALID_EMAIL_OR_PASSWORD"
	AuthCodeFailedToGetSession                   = "FAILED_TO_GET_SESSION"
	AuthCodeOAuthLinkError                       = "OAUTH_LINK_ERROR"
	AuthCodeMissingOrNullOrigin                  = "MISSING_OR_NULL_ORIGIN"
	AuthCodeInvalidOrigin                        = "INVALID_ORIGIN"
	AuthCodeCrossSiteNavigationLoginBlocked      = "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"
	AuthCodeInvalidCallbackURL                   = "INVALID_CALLBACK_URL"
	AuthCodeInvalidRedirectURL                   = "INVALID_REDIRECT_URL"
	AuthCodeInvalidErrorCallbackURL              = "INVALID_ERROR_CALLBACK_URL"
	AuthCodeInvalidNewUserCallbackURL            = "INVALID_NEW_USER_CALLBACK_URL"
	AuthCodeSessionNotFresh                      = "SESSION_NOT_FRESH"
	AuthCodeStateMismatch                        = "STATE_MISMATCH" // ours: one-time-token verify in another browser
	AuthCodeProviderNotFound                     = "PROVIDER_NOT_FOUND"
	AuthCodeIDTokenNotSupported                  = "ID_TOKEN_NOT_SUPPORTED" // ours: only the redirect flow runs
	AuthCodeMethodNotAllowedDeferSessionRequired = "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED"
	AuthCodePayloadTooLarge                      = "PAYLOAD_TOO_LARGE" // ours
	AuthCodeUnsupportedMediaType                 = "UNSUPPORTED_MEDIA_TYPE"
	AuthCodeUserAlreadyExistsUseAnotherEmail     = "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"
)

// better-auth's social sign-in failures: the ?error= of the redirect that
// ends a failed OAuth callback (docs/auth-wire.md §8.4, §8.7). A code the
// provider itself sent (access_denied, …) is passed on as it came.
const (
	OAuthErrStateNotFound          = "state_not_found"
	OAuthErrStateMismatch          = "state_mismatch"
	OAuthErrStateInvalid           = "state_invalid"
	OAuthErrNoCode                 = "no_code"
	OAuthErrProviderNotFound       = "oauth_provider_not_found"
	OAuthErrIssuerMismatch         = "issuer_mismatch"
	OAuthErrInvalidCode            = "invalid_code" // the token exchange failed
	OAuthErrUnableToGetUserInfo    = "unable_to_get_user_info"
	OAuthErrEmailNotFound          = "email_not_found"
	OAuthErrAccountNotLinked       = "account_not_linked"
	OAuthErrUnableToLinkAccount    = "unable_to_link_account"
	OAuthErrUnableToCreateUser     = "unable_to_create_user"
	OAuthErrEmailDoesNotMatch      = "email_does_not_match"
	OAuthErrAccountLinkedElsewhere = "account_already_linked_to_different_user"
	// OAuthErrUnknown is what GET /error shows (or forwards) for an error
	// parameter it will not repeat.
	OAuthErrUnknown = "UNKNOWN"
)
