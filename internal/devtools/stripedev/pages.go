package stripedev

import (
	"bytes"
	"html/template"
	"net/http"
)

// The pages are self-contained (no script, no external asset), and
// html/template escapes every value: the metadata and URLs come from the
// server's requests.

const style = `<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1a1f36}
h1{font-size:1.4rem}.note{color:#697386;font-size:.9rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e8ee;vertical-align:top}
code{font-size:.85rem}.amount{font-size:1.6rem;font-weight:600}
form{display:inline}button{font:inherit;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #635bff;cursor:pointer;margin-right:.5rem}
#pay,.refund{background:#635bff;color:#fff}#cancel{background:#fff;color:#635bff}.error{color:#c0123c}
</style>`

var checkoutTmpl = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Built-in checkout (make dev)</title>` + style + `</head><body>
<h1>Built-in checkout (make dev)</h1>
<p class="note">make dev's stand-in for Stripe Checkout: no card, no money. Pay sends a signed
<code>checkout.session.completed</code> to the server's webhook, as Stripe would; Cancel goes back to the app.</p>
<table>
<tr><th>Pack</th><td>{{.Pack}}</td></tr>
<tr><th>Price</th><td><code>{{.PriceID}}</code> × {{.Quantity}}</td></tr>
<tr><th>Amount</th><td class="amount">{{.Amount}}</td></tr>
<tr><th>Session</th><td><code>{{.ID}}</code></td></tr>
<tr><th>Customer</th><td><code>{{.Customer}}</code></td></tr>
<tr><th>Status</th><td>{{.Status}}, {{.PaymentStatus}}</td></tr>
</table>
{{if eq .Status "open"}}<div>
<form method="post" action="/_stripe/checkout/{{.ID}}/pay"><button type="submit" id="pay">Pay</button></form>
<form method="post" action="/_stripe/checkout/{{.ID}}/cancel"><button type="submit" id="cancel">Cancel</button></form>
</div>{{else}}<p>This session is paid: it can be paid once.</p>{{end}}
{{if .LastEventError}}<p class="error">Last delivery of {{.LastEvent}} failed: {{.LastEventError}}</p>{{end}}
<p class="note"><a href="/_stripe/">All sessions</a></p>
</body></html>`))

var dashboardTmpl = template.Must(template.New("dashboard").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Built-in Stripe dashboard (make dev)</title>` + style + `</head><body>
<h1>Built-in Stripe dashboard (make dev)</h1>
<p class="note">The checkout sessions of make dev's built-in checkout, newest first, kept in memory until the server
stops. Refund sends <code>charge.refunded</code> for the whole payment, as a refund in Stripe's dashboard would.</p>
{{if .}}<table>
<tr><th>Session</th><th>Pack</th><th>Amount</th><th>Status</th><th></th></tr>
{{range .}}<tr>
<td><a href="/_stripe/checkout/{{.ID}}"><code>{{.ID}}</code></a><br><span class="note">{{.Created}}; user <code>{{.User}}</code></span></td>
<td>{{.Pack}}<br><code class="note">{{.PriceID}}</code></td>
<td>{{.Amount}}</td>
<td>{{if .Refunded}}refunded{{else}}{{.Status}}, {{.PaymentStatus}}{{end}}{{if .PaymentIntent}}<br><code class="note">{{.PaymentIntent}}</code>{{end}}
{{if .LastEventError}}<br><span class="error">{{.LastEvent}} not delivered: {{.LastEventError}}</span>{{end}}</td>
<td>{{if and (eq .PaymentStatus "paid") (not .Refunded)}}<form method="post" action="/_stripe/refund/{{.ID}}"><button type="submit" class="refund" id="refund-{{.ID}}">Refund</button></form>{{end}}</td>
</tr>{{end}}
</table>{{else}}<p>No checkout yet: buy a pack in the app.</p>{{end}}
</body></html>`))

var messageTmpl = template.Must(template.New("message").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}} (make dev)</title>` + style + `</head><body>
<h1>{{.Title}}</h1>
<p>{{.Text}}</p>
<p class="note"><a href="/_stripe/">Built-in Stripe dashboard</a></p>
</body></html>`))

// page answers a short message page.
func (h *Handler) page(w http.ResponseWriter, status int, title, text string) {
	render(w, status, messageTmpl, struct{ Title, Text string }{title, text})
}

func render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	// No script at all; forms post to this origin (their redirects go to
	// the app, so form-action is left open).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
