package stack_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"adstudio/infra/stack"
	"adstudio/internal/routes"
)

// billingVars are what billing adds to a function's environment.
var billingVars = []string{"BILLING_PACKS", "STRIPE_SECRET_KEY_SSM", "STRIPE_WEBHOOK_SECRET_SSM"}

// checkBilling builds the stack with and without billingPacks: only
// history serves /api/billing/*, so only history gets the catalog and the
// Stripe secrets, and the grant to read them, and only when the catalog is
// set (a parameter that does not exist would fail its cold start).
func checkBilling(t *testing.T, assets string) {
	base := map[string]string{"TURSO_DATABASE_URL": "libsql://adstudio-org.turso.io", "TRUSTED_ORIGINS": "https://app.example.com"}
	build := func(id string, extra map[string]string) (obj, map[routes.Function]map[string]string, map[routes.Function][]string, map[string]routes.Function) {
		t.Helper()
		settings := map[string]string{}
		for k, v := range base {
			settings[k] = v
		}
		for k, v := range extra {
			settings[k] = v
		}
		s := stack.New(awscdk.NewApp(nil), id, &stack.Props{AssetRoot: assets, ParameterPrefix: "/prod/adstudio/", Settings: settings})
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
		return d, envs, iamGrants(t, d, fnByID), fnByID
	}
	param := "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/prod/adstudio/%s"
	stripeGrants := func(grants []string) []string {
		var out []string
		for _, g := range grants {
			if strings.HasPrefix(g, "ssm:GetParameters ") && strings.Contains(g, "stripe") {
				out = append(out, g)
			}
		}
		slices.Sort(out)
		return out
	}

	// With a catalog: history alone.
	d, envs, grants, fnByID := build("Billing", map[string]string{"BILLING_PACKS": samplePacks})
	for _, fn := range routes.Functions() {
		if fn != routes.History {
			for _, k := range billingVars {
				if v, ok := envs[fn][k]; ok {
					t.Errorf("%s: %s = %q: only history serves billing", fn, k, v)
				}
			}
			if g := stripeGrants(grants[fn]); len(g) > 0 {
				t.Errorf("%s: may read %v: only history serves billing", fn, g)
			}
			continue
		}
		env := envs[fn]
		for k, want := range map[string]string{
			"BILLING_PACKS":             samplePacks,
			"STRIPE_SECRET_KEY_SSM":     "/prod/adstudio/stripe-secret-key",
			"STRIPE_WEBHOOK_SECRET_SSM": "/prod/adstudio/stripe-webhook-secret",
		} {
			if env[k] != want {
				t.Errorf("history: %s = %q, want %q", k, env[k], want)
			}
		}
		for _, k := range []string{"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE"} {
			if _, ok := env[k]; ok {
				t.Errorf("history: %s is in the environment", k)
			}
		}
		want := []string{
			"ssm:GetParameters " + fmt.Sprintf(param, "stripe-secret-key"),
			"ssm:GetParameters " + fmt.Sprintf(param, "stripe-webhook-secret"),
		}
		if g := stripeGrants(grants[fn]); !slices.Equal(g, want) {
			t.Errorf("history's Stripe grants\n  got  %q\n  want %q", g, want)
		}
	}
	out := fmt.Sprint(d["Outputs"].(obj)["SecretParameters"].(obj)["Value"])
	for _, p := range []string{"/prod/adstudio/stripe-secret-key", "/prod/adstudio/stripe-webhook-secret"} {
		if !slices.Contains(strings.Split(out, ","), p) {
			t.Errorf("SecretParameters %q lacks %s", out, p)
		}
	}

	// The billing routes are the history function's. (TestStack walks
	// the whole route table; this names them, so dropping one from the
	// table fails too.)
	historyInteg := ""
	for id, r := range resources(d, "AWS::ApiGatewayV2::Integration") {
		if fnByID[props(r)["IntegrationUri"].(obj)["Fn::GetAtt"].([]any)[0].(string)] == routes.History {
			historyInteg = id
		}
	}
	routeTarget := map[string]string{}
	for _, r := range resources(d, "AWS::ApiGatewayV2::Route") {
		routeTarget[props(r)["RouteKey"].(string)] = flat(props(r)["Target"])
	}
	for _, key := range []string{"GET /api/billing/packs", "POST /api/billing/checkout", "GET /api/billing/purchases", "POST /api/billing/webhook"} {
		if got, want := routeTarget[key], "integrations/${"+historyInteg+"}"; historyInteg == "" || got != want {
			t.Errorf("route %s: target %q, want %q (the history function)", key, got, want)
		}
	}

	// Without a catalog: nobody, and no grant.
	d, envs, grants, _ = build("NoBilling", nil)
	for _, fn := range routes.Functions() {
		for _, k := range billingVars {
			if v, ok := envs[fn][k]; ok {
				t.Errorf("no billingPacks: %s has %s = %q", fn, k, v)
			}
		}
		if g := stripeGrants(grants[fn]); len(g) > 0 {
			t.Errorf("no billingPacks: %s may read %v", fn, g)
		}
	}
	if out := fmt.Sprint(d["Outputs"].(obj)["SecretParameters"].(obj)["Value"]); strings.Contains(out, "stripe") {
		t.Errorf("no billingPacks: SecretParameters %q", out)
	}

	// From context: a JSON string (-c billingPacks='[…]') or, in cdk.json,
	// the array itself; both reach BILLING_PACKS as the same JSON.
	var packs any
	if err := json.Unmarshal([]byte(samplePacks), &packs); err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{samplePacks, packs} {
		p, err := stack.FromContext(awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"billingPacks": v}}))
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if err := json.Unmarshal([]byte(p.Settings["BILLING_PACKS"]), &got); err != nil || !reflect.DeepEqual(got, packs) {
			t.Errorf("context billingPacks %T: BILLING_PACKS = %q (%v)", v, p.Settings["BILLING_PACKS"], err)
		}
	}

	// Not a JSON array: refused at synth rather than at history's cold
	// start.
	for _, bad := range []string{`{"id":"starter"}`, `[{"id":"starter"}`, "starter"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "billingPacks") {
					t.Errorf("billingPacks %s: the stack should refuse it naming the key (%v)", bad, r)
				}
			}()
			stack.New(awscdk.NewApp(nil), "BillingBad", &stack.Props{AssetRoot: assets, Settings: map[string]string{"BILLING_PACKS": bad}})
		}()
	}
}
