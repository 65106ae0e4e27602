package stack_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"adstudio/infra/stack"
	"adstudio/internal/routes"
)

// checkMail builds the stack with each deployed transport: only auth sends
// mail, so only auth gets the mail settings, SES's grant (on EMAIL_FROM's
// address and domain identities, nothing wider) or SMTP's URL secret.
func checkMail(t *testing.T, assets string) {
	base := map[string]string{
		"TURSO_DATABASE_URL": "libsql://adstudio-org.turso.io", "TRUSTED_ORIGINS": "https://app.example.com",
		"EMAIL_FROM": "AdDreams <NoReply@Example.com>", "APP_NAME": "AdDreams",
	}
	build := func(transport string) (obj, map[routes.Function]map[string]string, map[routes.Function][]string) {
		t.Helper()
		settings := map[string]string{"EMAIL_TRANSPORT": transport}
		for k, v := range base {
			settings[k] = v
		}
		s := stack.New(awscdk.NewApp(nil), "Mail"+transport, &stack.Props{AssetRoot: assets, Settings: settings})
		d := doc(t, assertions.Template_FromStack(s.Stack, nil))
		fnByID := map[string]routes.Function{}
		envs := map[routes.Function]map[string]string{}
		for _, fn := range routes.Functions() {
			id := logicalID(s, fn)
			fnByID[id] = fn
			envs[fn] = map[string]string{}
			for k, v := range props(resources(d, "AWS::Lambda::Function")[id])["Environment"].(obj)["Variables"].(obj) {
				envs[fn][k] = flat(v)
			}
		}
		return d, envs, iamGrants(t, d, fnByID)
	}
	identity := "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/%s"

	_, envs, grants := build("ses")
	for _, fn := range routes.Functions() {
		var ses []string
		for _, g := range grants[fn] {
			if strings.HasPrefix(g, "ses:") {
				ses = append(ses, g)
			}
		}
		slices.Sort(ses)
		hasMail := envs[fn]["EMAIL_TRANSPORT"] != "" || envs[fn]["EMAIL_FROM"] != "" || envs[fn]["APP_NAME"] != ""
		if fn != routes.Auth {
			if len(ses) > 0 || hasMail {
				t.Errorf("%s: mail grants %v, environment %v: only auth sends mail", fn, ses, envs[fn])
			}
			continue
		}
		want := []string{
			"ses:SendEmail " + fmt.Sprintf(identity, "example.com"),
			"ses:SendEmail " + fmt.Sprintf(identity, "noreply@example.com"),
		}
		if !slices.Equal(ses, want) {
			t.Errorf("auth's SES grants\n  got  %q\n  want %q", ses, want)
		}
		if envs[fn]["EMAIL_TRANSPORT"] != "ses" || envs[fn]["EMAIL_FROM"] != base["EMAIL_FROM"] || envs[fn]["SMTP_URL_SSM"] != "" {
			t.Errorf("auth's environment with SES: %v", envs[fn])
		}
	}

	_, envs, grants = build("smtp")
	for _, fn := range routes.Functions() {
		param := envs[fn]["SMTP_URL_SSM"]
		if (fn == routes.Auth) != (param == "/adstudio/smtp-url") {
			t.Errorf("%s: SMTP_URL_SSM = %q: the SMTP URL's secret goes to auth alone", fn, param)
		}
		for _, g := range grants[fn] {
			if strings.HasPrefix(g, "ses:") {
				t.Errorf("%s: %s with SMTP", fn, g)
			}
		}
	}

	for _, bad := range []map[string]string{{"EMAIL_TRANSPORT": "outbox"}, {"EMAIL_TRANSPORT": "ses", "EMAIL_FROM": ""}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("settings %v: the stack should refuse them", bad)
				}
			}()
			settings := map[string]string{"TURSO_DATABASE_URL": "libsql://x.turso.io"}
			for k, v := range bad {
				settings[k] = v
			}
			stack.New(awscdk.NewApp(nil), "MailBad", &stack.Props{AssetRoot: assets, Settings: settings})
		}()
	}
}
