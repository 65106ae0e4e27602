package authapi

import (
	"html"

	"adstudio/internal/mail"
)

// The mails the auth endpoints send. Every link in them is built from
// BETTER_AUTH_URL; a callback URL the SPA gave rides inside it, checked
// against the trusted origins before anything is sent.

// linkMail is one mail whose point is one link: what happened, the link
// as a button (and written out), and what to do if it was not you.
type linkMail struct {
	subject, intro, label, outro string
}

// message renders m to one recipient, in plain text and in HTML.
func (m linkMail) message(to, link string) mail.Message {
	return mail.Message{
		To:      to,
		Subject: m.subject,
		Text:    m.intro + "\n\n" + m.label + ", open this link within an hour:\n\n" + link + "\n\n" + m.outro + "\n",
		HTML: `<!doctype html><html><head><meta charset="utf-8"><title>` + html.EscapeString(m.subject) + `</title></head>` +
			`<body style="font-family:sans-serif;line-height:1.5;max-width:32em"><p>` + html.EscapeString(m.intro) + `</p>` +
			`<p><a href="` + html.EscapeString(link) + `" style="display:inline-block;padding:.6em 1.2em;background:#111;color:#fff;text-decoration:none;border-radius:6px">` +
			html.EscapeString(m.label) + `</a></p><p style="font-size:small;word-break:break-all">` + html.EscapeString(link) + `</p>` +
			`<p>The link works for an hour. ` + html.EscapeString(m.outro) + `</p></body></html>`,
	}
}

// resetMessage is the password reset mail.
func resetMessage(app, to, link string) mail.Message {
	return linkMail{
		subject: "Reset your " + app + " password",
		intro:   "Someone asked to reset the password of your " + app + " account.",
		label:   "To choose a new password",
		outro:   "If it was not you, ignore this email: your password stays as it is.",
	}.message(to, link)
}

// verifyMessage is the mail that verifies an address.
func verifyMessage(app, to, link string) mail.Message {
	return linkMail{
		subject: "Verify your email for " + app,
		intro:   "Please confirm that " + to + " is your address for " + app + ".",
		label:   "To verify it",
		outro:   "If you did not sign up, ignore this email.",
	}.message(to, link)
}

// changeEmailMessage goes to the new address of an email change: opening
// it is what moves the account there.
func changeEmailMessage(app, to, link string) mail.Message {
	return linkMail{
		subject: "Confirm your new email for " + app,
		intro:   "Someone asked to move an " + app + " account to " + to + ". Until you confirm, nothing changes.",
		label:   "To confirm that this is your address",
		outro:   "If it was not you, ignore this email.",
	}.message(to, link)
}
