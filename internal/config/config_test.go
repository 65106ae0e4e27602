package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{
		"TURSO_DATABASE_URL": "libsql://db.example.turso.io",
		"BETTER_AUTH_URL":    "https://api.example.com",
		"BETTER_AUTH_SECRET": strings.Repeat("s", 32),
	}
	for _, tc := range []struct {
		set     map[string]string
		wantVar string
	}{
		{map[string]string{"BETTER_AUTH_SECRET": ""}, "BETTER_AUTH_SECRET"},
		{map[string]string{"BETTER_AUTH_SECRET": "short"}, "BETTER_AUTH_SECRET"},
		{map[string]string{"BETTER_AUTH_SECRET": strings.Repeat("s", 32) + ",tooshort"}, "BETTER_AUTH_SECRET"},
		{map[string]string{"BETTER_AUTH_URL": ""}, "BETTER_AUTH_URL"},
		{map[string]string{"BETTER_AUTH_URL": "api.example.com"}, "BETTER_AUTH_URL"},
		{map[string]string{"BETTER_AUTH_URL": "https://api.example.com/api/auth"}, "BETTER_AUTH_URL"},
		{map[string]string{"TURSO_DATABASE_URL": ""}, "TURSO_DATABASE_URL"},
		{map[string]string{"TURSO_DATABASE_URL": "postgres://x"}, "TURSO_DATABASE_URL"},
		{map[string]string{"TURSO_DATABASE_URL": "file://x.db"}, "TURSO_DATABASE_URL"},
		{map[string]string{"AUTH_SCHEMA": "accounts"}, "AUTH_SCHEMA"},
		{map[string]string{"COOKIE_SAMESITE": "sometimes"}, "COOKIE_SAMESITE"},
		{map[string]string{"COOKIE_SECURE": "yes please"}, "COOKIE_SECURE"},
		{map[string]string{"COOKIE_PARTITIONED": "on"}, "COOKIE_PARTITIONED"},
		{map[string]string{"QWEN_TIMEOUT_MS": "\ufeff45000x"}, "QWEN_TIMEOUT_MS"},
		{map[string]string{"COOKIE_PREFIX": "a;b"}, "COOKIE_PREFIX"},
		{map[string]string{"RATE_LIMIT_ENABLED": "maybe"}, "RATE_LIMIT_ENABLED"},
		{map[string]string{"WORKFLOW_SYNC_BUDGET_MS": "30000"}, "WORKFLOW_SYNC_BUDGET_MS"},
		{map[string]string{"WORKFLOW_SYNC_BUDGET_MS": "soon"}, "WORKFLOW_SYNC_BUDGET_MS"},
		{map[string]string{"BILLING_PACKS": "{}"}, "BILLING_PACKS"},
		{map[string]string{"BILLING_PACKS": `[{"id":"a b","name":"A","priceId":"price_1","credits":{"image-from-text":1}}]`}, "BILLING_PACKS"},
		{map[string]string{"BILLING_PACKS": `[{"id":"a","name":"A","priceId":"prod_1","credits":{"image-from-text":1}}]`}, "BILLING_PACKS"},
		{map[string]string{"BILLING_PACKS": `[{"id":"a","name":"A","priceId":"price_1","credits":{"image-from-text":-1}}]`}, "BILLING_PACKS"},
		{map[string]string{"BILLING_PACKS": `[{"id":"a","name":"A","priceId":"price_1","credits":{"image-from-txt":1}}]`}, "BILLING_PACKS"},
		{map[string]string{"BILLING_PACKS": `[{"id":"a","name":"A","priceId":"price_1","credits":{}}]`}, "BILLING_PACKS"},
		{map[string]string{"BILLING_PACKS": `[{"id":"a","name":"A","priceId":"price_1","credits":{"image-from-text":1}},{"id":"a","name":"B","priceId":"price_2","credits":{"image-from-text":1}}]`}, "BILLING_PACKS"},
		{map[string]string{"STRIPE_SECRET_KEY": "pk_live_123"}, "STRIPE_SECRET_KEY"},
		{map[string]string{"STRIPE_WEBHOOK_SECRET": "secret"}, "STRIPE_WEBHOOK_SECRET"},
		{map[string]string{"STRIPE_API_BASE": "https://api.stripe.com/v1"}, "STRIPE_API_BASE"},
		{map[string]string{"GOOGLE_CLIENT_ID": "gid"}, "GOOGLE_CLIENT_SECRET"},
		{map[string]string{"TRUSTED_PROVIDERS": "google,gitlab"}, "TRUSTED_PROVIDERS"},
		{map[string]string{"GITHUB_CLIENT_SECRET": "s"}, "GITHUB_CLIENT_SECRET"},
		{map[string]string{"GITHUB_CLIENT_ID": "i", "GITHUB_CLIENT_SECRET": "s", "GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL"},
		{map[string]string{"PORT": "http"}, "PORT"},
		{map[string]string{"PORT": "8787x"}, "PORT"},
		{map[string]string{"TRUSTED_ORIGINS": "*"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://app.example.com,*"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "app.example.com"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "*.example.com"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "*://app.example.com"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "ftp://app.example.com"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://app.example.com/"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://app.example.com/login"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://*"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://*.com"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://*.vercel.app"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://app-*.vercel.app"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://user@app.example.com"}, "TRUSTED_ORIGINS"},
		{map[string]string{"TRUSTED_ORIGINS": "https://app.example.com:http"}, "TRUSTED_ORIGINS"},
		{map[string]string{"QWEN_TIMEOUT_MS": "45s"}, "QWEN_TIMEOUT_MS"},
		{map[string]string{"QWEN_TIMEOUT_MS": "1.5"}, "QWEN_TIMEOUT_MS"},
		{map[string]string{"QWEN_TIMEOUT_MS": "0"}, "QWEN_TIMEOUT_MS"},
		{map[string]string{"QWEN_API_KEY": "sk-x", "QWEN_TIMEOUT_MS": "45000ms"}, "QWEN_TIMEOUT_MS"},
		{map[string]string{"WORKFLOW_SYNC_BUDGET_MS": "20s"}, "WORKFLOW_SYNC_BUDGET_MS"},
		{map[string]string{"SESSION_ABSOLUTE_MAX_AGE": "30d"}, "SESSION_ABSOLUTE_MAX_AGE"},
		{map[string]string{"SESSION_ABSOLUTE_MAX_AGE": "60"}, "SESSION_ABSOLUTE_MAX_AGE"},
		{map[string]string{"AUDIT_RETENTION_DAYS": "0"}, "AUDIT_RETENTION_DAYS"},
		{map[string]string{"AUDIT_RETENTION_DAYS": "3651"}, "AUDIT_RETENTION_DAYS"},
		{map[string]string{"AUDIT_RETENTION_DAYS": "90d"}, "AUDIT_RETENTION_DAYS"},
		{map[string]string{"ASSET_LINK_TTL": "1h"}, "ASSET_LINK_TTL"},
		{map[string]string{"ASSET_LINK_TTL": "59"}, "ASSET_LINK_TTL"},
		{map[string]string{"ASSET_LINK_TTL": "604801"}, "ASSET_LINK_TTL"},
		{map[string]string{"UPLOAD_MAX_BYTES": "20MB"}, "UPLOAD_MAX_BYTES"},
		{map[string]string{"UPLOAD_MAX_BYTES": "1023"}, "UPLOAD_MAX_BYTES"},
		{map[string]string{"UPLOAD_MAX_BYTES": "10485761"}, "UPLOAD_MAX_BYTES"},
		{map[string]string{"EMAIL_TRANSPORT": "sendgrid"}, "EMAIL_TRANSPORT"},
		{map[string]string{"EMAIL_VERIFICATION": "required"}, "EMAIL_VERIFICATION"},
		{map[string]string{"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL": "true"}, "FREE_CREDITS_REQUIRE_VERIFIED_EMAIL"},
		{map[string]string{"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL": "1", "EMAIL_TRANSPORT": "ses", "EMAIL_FROM": "a@example.com"}, "FREE_CREDITS_REQUIRE_VERIFIED_EMAIL"},
		{map[string]string{"EMAIL_VERIFICATION": "yes", "EMAIL_TRANSPORT": "ses", "EMAIL_FROM": "a@example.com"}, "EMAIL_VERIFICATION"},
		{map[string]string{"EMAIL_TRANSPORT": "smtp", "EMAIL_FROM": "a@example.com"}, "SMTP_URL"},
		{map[string]string{"EMAIL_TRANSPORT": "smtp", "EMAIL_FROM": "a@example.com", "SMTP_URL": "https://user:hunter2@mail.example.com"}, "SMTP_URL"},
		{map[string]string{"EMAIL_TRANSPORT": "ses"}, "EMAIL_FROM"},
		{map[string]string{"EMAIL_TRANSPORT": "ses", "EMAIL_FROM": "not an address"}, "EMAIL_FROM"},
		{map[string]string{"FRONTEND_URL": "app.example.com"}, "FRONTEND_URL"},
	} {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range tc.set {
			m[k] = v
		}
		_, err := Load(env(m), false)
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantVar+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line starting %q", tc.set, err, tc.wantVar)
		}
		if err != nil && strings.Contains(err.Error(), strings.Repeat("s", 32)) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TURSO_DATABASE_URL": "libsql://db.example.turso.io", "TURSO_AUTH_TOKEN": "tok-secret",
		"BETTER_AUTH_URL": "https://api.example.com", "BETTER_AUTH_SECRET": "new-secret-new-secret-new-secret!, old-secret-old-secret-old-secret!",
		"COOKIE_SAMESITE": "None", "IP_ADDRESS_HEADERS": "X-Forwarded-For",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.CookieOverrides.SameSite != "none" || c.CookieOverrides.Secure != nil || c.CookieOverrides.Partitioned != nil || c.AuthSchema != SchemaUsers || c.CookiePrefix != "better-auth" || !c.RateLimitEnabled {
		t.Fatalf("defaults: %+v", c)
	}
	if len(c.Secrets) != 2 || c.Secrets[0] != "new-secret-new-secret-new-secret!" || c.IPAddressHeaders[0] != "x-forwarded-for" {
		t.Fatalf("lists: %+v", c)
	}
	if c.Qwen.Timeout != 45*time.Second || c.Qwen.BaseURL != "https://dashscope-intl.aliyuncs.com" || c.S3On || c.ObjectsDir != "" {
		t.Fatalf("provider and storage: %+v", c)
	}
	if s := c.Summary("samesite=none (set explicitly)", nil); strings.Contains(s, "secret-") || strings.Contains(s, "tok-secret") || !strings.Contains(s, "samesite=none (set explicitly)") {
		t.Fatalf("summary leaks secrets or drops the cookie line: %s", s)
	}
	local, err := Load(env(nil), true)
	if err != nil || local.DatabaseURL != "file:.data/dev.db" || local.BaseURL != "http://127.0.0.1:8787" || len(local.TrustedOrigins) != 2 || local.ObjectsDir != filepath.Join(".data", "objects") {
		t.Fatalf("local defaults: %+v %v", local, err)
	}
	if s := local.Summary("", errors.New("QWEN_REGION must be either 'sg' or 'bj'.")); !strings.Contains(s, "images: provider misconfigured (QWEN_REGION") {
		t.Fatalf("summary hides the provider's problem: %s", s)
	}
}

// Only what is set explicitly is kept: internal/auth/cookie decides the
// rest from the deployment.
func TestCookieOverrides(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		env  map[string]string
		want CookieOverrides
	}{
		{nil, CookieOverrides{}},
		{map[string]string{"COOKIE_SAMESITE": " Strict "}, CookieOverrides{SameSite: "strict"}},
		{map[string]string{"COOKIE_SECURE": "false", "COOKIE_PARTITIONED": "1"}, CookieOverrides{Secure: &no, Partitioned: &yes}},
	} {
		got, err := LoadCookieOverrides(env(tc.env))
		if err != nil || got.SameSite != tc.want.SameSite || !sameBool(got.Secure, tc.want.Secure) || !sameBool(got.Partitioned, tc.want.Partitioned) {
			t.Errorf("%v: %+v, %v; want %+v", tc.env, got, err, tc.want)
		}
	}
}

func sameBool(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func TestTrustedOriginsAccepted(t *testing.T) {
	for _, o := range []string{
		"https://app.example.com", "http://localhost:5173", "http://127.0.0.1:5173", "https://*.example.com",
		"https://preview-*.example.co.uk", "http://localhost:*", "https://app.example.com:8443", "http://[::1]:5173",
	} {
		m := map[string]string{"TURSO_DATABASE_URL": "libsql://db.example.turso.io", "BETTER_AUTH_URL": "https://api.example.com",
			"BETTER_AUTH_SECRET": strings.Repeat("s", 32), "TRUSTED_ORIGINS": o}
		if _, err := Load(env(m), false); err != nil {
			t.Errorf("%s: %v", o, err)
		}
	}
}

func TestLocalSecretPersists(t *testing.T) {
	dir := t.TempDir()
	e := env(map[string]string{"TURSO_DATABASE_URL": "file:" + dir + "/dev.db"})
	a, err := LoadLocal(e)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadLocal(e)
	if err != nil || len(a.Secrets[0]) < 32 || a.Secrets[0] != b.Secrets[0] {
		t.Fatalf("development secret not kept: %v %v", a.Secrets, b.Secrets)
	}
}

// Mail: none by default outside make dev, the outbox beside make dev's
// database, and an SMTP URL never repeated in an error (it holds a password).
func TestMail(t *testing.T) {
	get := func(m map[string]string) Getenv { return func(k string) string { return m[k] } }
	c, err := Load(get(map[string]string{"BETTER_AUTH_SECRET": strings.Repeat("s", 32), "BETTER_AUTH_URL": "https://api.example.com", "TURSO_DATABASE_URL": "libsql://x.turso.io"}), false)
	if err != nil || c.Mail.Transport != "" {
		t.Fatalf("deployed default: %+v %v", c.Mail, err)
	}
	c, err = Load(get(map[string]string{"TURSO_DATABASE_URL": "file:/tmp/x/dev.db"}), true)
	if err != nil || c.Mail.Transport != MailOutbox || c.Mail.OutboxDir != "/tmp/x/outbox" || c.Mail.From != "AdDreams <noreply@localhost>" {
		t.Fatalf("make dev default: %+v %v", c.Mail, err)
	}
	_, err = Load(get(map[string]string{"BETTER_AUTH_SECRET": strings.Repeat("s", 32), "BETTER_AUTH_URL": "https://api.example.com", "TURSO_DATABASE_URL": "libsql://x.turso.io",
		"EMAIL_TRANSPORT": "smtp", "EMAIL_FROM": "a@example.com", "SMTP_URL": "smtp://user:hunter2@%zz"}), false)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("bad SMTP_URL: %v", err)
	}
}

// TestBillingPacks: a valid catalog loads in order, with what each pack
// grants, and an empty one sells nothing.
func TestBillingPacks(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TURSO_DATABASE_URL": "libsql://db.example.turso.io", "BETTER_AUTH_URL": "https://api.example.com", "BETTER_AUTH_SECRET": strings.Repeat("s", 32),
		"BILLING_PACKS": `[{"id":"starter","name":"Starter","priceId":"price_1","credits":{"image-from-text":20,"image-from-reference":10},"paid":true},` +
			`{"id":"pro-2","name":"Pro","priceId":"price_2","credits":{"image-from-reference":50}}]`,
		"STRIPE_SECRET_KEY": "sk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1",
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	b := c.Billing
	if len(b.Packs) != 2 || b.Packs[0] != (Pack{"starter", "Starter", "price_1", PackCredits{20, 10}, true}) || b.Packs[1] != (Pack{"pro-2", "Pro", "price_2", PackCredits{0, 50}, false}) {
		t.Errorf("packs %+v", b.Packs)
	}
	if p, ok := b.Pack("pro-2"); !ok || p.PriceID != "price_2" {
		t.Errorf("Pack(pro-2) = %+v %v", p, ok)
	}
	if _, ok := b.Pack("gold"); ok {
		t.Error("an unknown pack was found")
	}
	if b.APIBase != "https://api.stripe.com" {
		t.Errorf("default API base %q", b.APIBase)
	}
	if s := c.Summary("", nil); !strings.Contains(s, "billing: 2 pack(s); stripe key set, webhook secret set") || strings.Contains(s, "sk_test_1") || strings.Contains(s, "whsec_1") {
		t.Errorf("summary %q", s)
	}
}
