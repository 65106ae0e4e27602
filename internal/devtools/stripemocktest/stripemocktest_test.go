package stripemocktest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"adstudio/internal/devtools/stripemocktest"
	"adstudio/internal/devtools/testenv"
)

// TestCreateCustomer checks that Start gives a stripe-mock that takes a
// form-encoded create call as Stripe does and answers in Stripe's shape,
// echoing the parameter it was given.
func TestCreateCustomer(t *testing.T) {
	base := stripemocktest.Start(t, testenv.Tool(t, stripemocktest.BinEnv, stripemocktest.BinHow))
	req, err := http.NewRequest(http.MethodPost, base+"/v1/customers",
		strings.NewReader(url.Values{"email": {"a@example.com"}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+stripemocktest.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/customers: HTTP %d", res.StatusCode)
	}
	var c struct{ ID, Email string }
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ID, "cus_") {
		t.Errorf("id = %q, want a cus_ id", c.ID)
	}
	if c.Email != "a@example.com" {
		t.Errorf("email = %q, want the one sent, a@example.com", c.Email)
	}
}
