package authapi

import (
	"html"

	"adstudio/internal/mail"
)

// The mails the auth endpoints send. Every link in them is built from
// BETTER_AUTH_URL; a callback URL the SPA gave rides inside it, checked
// against the trusted origins before anything is sent.

// resetMessage is the password reset mail.
func resetMessage(app, to, link string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: "Reset your " + app + " password",
		Text: "Someone asked to reset the password of your " + app + " account.\n\n" +
			"To choose a new password, open this link within an hour:\n\n" + link + "\n\n" +
			"If it was not you, ignore this email: your password stays as it is.\n",
		HTML: page("Reset your "+app+" password",
			"<p>Someone asked to reset the password of your "+html.EscapeString(app)+" account.</p>"+
				button(link, "Choose a new password")+
				"<p>The link works for an hour. If it was not you, ignore this email: your password stays as it is.</p>"),
	}
}

// page wraps a mail's HTML body.
func page(title, body string) string {
	return `<!doctype html><html><head><meta charset="utf-8"><title>` + html.EscapeString(title) + `</title></head>` +
		`<body style="font-family:sans-serif;line-height:1.5;max-width:32em">` + body + `</body></html>`
}

// button is a link styled as a button, with the address written out for
// mail clients that drop styles.
func button(link, label string) string {
	l := html.EscapeString(link)
	return `<p><a href="` + l + `" style="display:inline-block;padding:.6em 1.2em;background:#111;color:#fff;text-decoration:none;border-radius:6px">` +
		html.EscapeString(label) + `</a></p><p style="font-size:small;word-break:break-all">` + l + `</p>`
}
