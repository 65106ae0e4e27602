// Package stripemocktest runs stripe-mock, a stateless stand-in for Stripe's
// API built from Stripe's OpenAPI spec, for tests of code that talks to
// Stripe. It validates each request against the spec (paths, methods,
// parameters, an API key) and answers with the spec's fixture object for
// that resource: ids are fresh on every call, and some request parameters
// (an email, metadata, …) are echoed into the answer. It keeps no state, so
// what one call creates a later call does not see, and it sends no webhooks:
// tests of those build the events themselves.
package stripemocktest

import (
	"net/http"
	"testing"
	"time"

	"adstudio/internal/devtools/proctest"
)

// BinEnv names the variable that holds the stripe-mock binary's path, and
// BinHow says how to set it. Tests resolve it with internal/devtools/testenv
// (a skip outside CI, a failure under CI) and pass the path to Start: this
// package may not import testenv, which only tests may.
const (
	BinEnv = "STRIPE_MOCK_BIN"
	BinHow = "the billing tests need stripe-mock (STRIPE_MOCK_BIN=$(tests/stripe/stripe-mock.sh), as make test-go does)"
)

// APIKey is a secret key stripe-mock accepts: it checks only that a request
// carries a key of the right shape, never which one.
const APIKey = "sk_test_123"

// readyTimeout bounds the wait for the first answer: stripe-mock loads its
// embedded spec in well under a second, so much longer means it is stuck.
const readyTimeout = 20 * time.Second

// Start runs the stripe-mock binary bin for the test's lifetime and returns
// its base URL, http://127.0.0.1:<port>, once it answers API calls. Its log
// is shown if the test fails.
func Start(t testing.TB, bin string) string {
	t.Helper()
	addr := proctest.FreeAddr(t)
	base := "http://" + addr
	// -http-addr alone leaves HTTPS on, on the fixed port 12112, where
	// parallel tests (or a stripe-mock someone runs by hand) would collide
	// and make it exit; it cannot be turned off alongside -http-addr, so it
	// gets a port the system picks, on loopback, and nobody uses it.
	p := proctest.Start(t, "stripe-mock", bin, "-http-addr", addr, "-https-addr", "127.0.0.1:0")
	// Ready when an authenticated list call answers 200, which also proves
	// the spec loaded.
	req, err := http.NewRequest(http.MethodGet, base+"/v1/customers", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+APIKey)
	client := &http.Client{Timeout: 5 * time.Second}
	p.WaitReady(t, readyTimeout, func() bool {
		res, err := client.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return base
}
