package mail

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/mailpittest"
	"adstudio/internal/devtools/testenv"
)

// smtpTo returns an SMTP sender for rawURL with a fixed clock.
func smtpTo(t *testing.T, from, rawURL string) *SMTP {
	t.Helper()
	s, err := NewSMTP(from, rawURL)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC) }
	return s
}

// checkDelivered checks that mailpit stored m as sent from
// "Équipe Ad Studio <noreply@example.com>" by s, with user as the SMTP
// AUTH user ("" for none).
func checkDelivered(t *testing.T, got mailpittest.Message, m Message, user string) {
	t.Helper()
	if got.Subject != m.Subject {
		t.Errorf("Subject %q, want %q", got.Subject, m.Subject)
	}
	if got.From != (mailpittest.Address{Name: "Équipe Ad Studio", Address: "noreply@example.com"}) {
		t.Errorf("From %v", got.From)
	}
	if len(got.To) != 1 || got.To[0].Address != "ann@example.com" || len(got.Cc)+len(got.Bcc) != 0 {
		t.Errorf("To %v, Cc %v, Bcc %v", got.To, got.Cc, got.Bcc)
	}
	// MIME text has CRLF line ends; go-mail converts.
	if got.Text != strings.ReplaceAll(m.Text, "\n", "\r\n") || got.HTML != m.HTML {
		t.Errorf("parts:\ntext %q\nhtml %q", got.Text, got.HTML)
	}
	if !got.Date.Equal(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("Date %v", got.Date)
	}
	if !strings.HasSuffix(got.MessageID, "@example.com") || len(got.MessageID) < 20 {
		t.Errorf("Message-ID %q", got.MessageID)
	}
	if got.Username != user {
		t.Errorf("authenticated as %q, want %q", got.Username, user)
	}
	// The headers as sent: a UTF-8 subject is an encoded word, the parts
	// are alternatives.
	head, _, _ := strings.Cut(got.Raw, "\r\n\r\n")
	for _, want := range []string{"\r\nSubject: =?UTF-8?q?", "\r\nContent-Type: multipart/alternative;", "\r\nMIME-Version: 1.0"} {
		if !strings.Contains(head, want) {
			t.Errorf("header has no %q:\n%s", want, head)
		}
	}
	if strings.Contains(head, "User-Agent") || strings.Contains(head, "X-Mailer") {
		t.Errorf("header names the library:\n%s", head)
	}
}

func TestSMTPDelivers(t *testing.T) {
	mp := mailpittest.Start(t, testenv.Tool(t, mailpittest.BinEnv, mailpittest.BinHow))
	m := resetMail("ann@example.com")
	if err := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", "smtp://"+mp.SMTPAddr).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp.Only(t), m, "")
}

// hostileCredentials need every kind of escaping in a URL's user info.
const (
	smtpUser = "ann@example.com"
	smtpPass = "p@ss:w/rd%ü?#+&" // no space: Mailpit's password file splits at white space
)

// smtpURL is scheme://user:pass@addr, user and password percent-encoded.
func smtpURL(scheme, user, pass, addr string) string {
	return (&url.URL{Scheme: scheme, User: url.UserPassword(user, pass), Host: addr}).String()
}

// authFile writes a Mailpit password file (htpasswd, plain text) that
// accepts only smtpUser with smtpPass.
func authFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "smtp-passwords")
	if err := os.WriteFile(p, []byte(smtpUser+":"+smtpPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSMTPAuth(t *testing.T) {
	// Plain text on loopback (allowed by both ends for 127.0.0.1 only), so
	// the credentials are the only thing under test.
	mp := mailpittest.Start(t, testenv.Tool(t, mailpittest.BinEnv, mailpittest.BinHow), "--smtp-auth-file", authFile(t), "--smtp-auth-allow-insecure")
	m := resetMail("ann@example.com")
	t.Run("wrong password", func(t *testing.T) {
		err := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", smtpURL("smtp", smtpUser, "wrong-pass-value", mp.SMTPAddr)).Send(context.Background(), m)
		if err == nil {
			t.Fatal("sent with a wrong password")
		}
		if strings.Contains(err.Error(), "wrong-pass-value") {
			t.Errorf("the error shows the password: %v", err)
		}
		if !strings.Contains(err.Error(), "535") {
			t.Errorf("the error does not carry the server's answer: %v", err)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		if err := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", "smtp://"+mp.SMTPAddr).Send(context.Background(), m); err == nil {
			t.Fatal("sent without authenticating")
		}
	})
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("%d messages stored after failed logins", n)
	}
	if err := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", smtpURL("smtp", smtpUser, smtpPass, mp.SMTPAddr)).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp.Only(t), m, smtpUser)
}

// Any credentials will do for a server that accepts any: the URL's user
// reaches it, decoded.
func TestSMTPAuthAcceptAny(t *testing.T) {
	mp := mailpittest.Start(t, testenv.Tool(t, mailpittest.BinEnv, mailpittest.BinHow), "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	m := resetMail("ann@example.com")
	if err := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", "smtp://us%40er:p%3Ass@"+mp.SMTPAddr).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp.Only(t), m, "us@er")
}

// testCert writes a self-signed certificate for 127.0.0.1 and returns its
// files and a pool that trusts it.
func testCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailpit test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		// Valid for longer than any test runs, either side of now.
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestSMTPStartTLS(t *testing.T) {
	cert, key, pool := testCert(t)
	// With a password file and no --smtp-auth-allow-insecure, Mailpit
	// requires STARTTLS before anything else: a delivery proves it ran.
	mp := mailpittest.Start(t, testenv.Tool(t, mailpittest.BinEnv, mailpittest.BinHow), "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-auth-file", authFile(t))
	m := resetMail("ann@example.com")
	u := smtpURL("smtp", smtpUser, smtpPass, mp.SMTPAddr)
	t.Run("untrusted certificate", func(t *testing.T) {
		err := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", u).Send(context.Background(), m)
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Fatalf("error %v, want the certificate refused", err)
		}
	})
	s := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", u)
	s.RootCAs = pool
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp.Only(t), m, smtpUser)
}

func TestSMTPImplicitTLS(t *testing.T) {
	cert, key, pool := testCert(t)
	// --smtp-require-tls: TLS from the first byte, as on port 465.
	mp := mailpittest.Start(t, testenv.Tool(t, mailpittest.BinEnv, mailpittest.BinHow), "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-tls", "--smtp-auth-file", authFile(t))
	m := resetMail("ann@example.com")
	s := smtpTo(t, "Équipe Ad Studio <noreply@example.com>", smtpURL("smtps", smtpUser, smtpPass, mp.SMTPAddr))
	s.RootCAs = pool
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	checkDelivered(t, mp.Only(t), m, smtpUser)
}

// A server that never answers holds the send only as long as the caller
// waits: cancelling ends it, at whatever step.
func TestSMTPCallerGivesUp(t *testing.T) {
	for _, step := range []string{"greeting", "data"} {
		t.Run(step, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			stalled := make(chan struct{})
			go func() {
				conn, err := l.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				if step == "data" {
					// A server that takes everything up to the end of the
					// message and then goes silent.
					r := textproto.NewReader(bufio.NewReader(conn))
					conn.Write([]byte("220 stall ESMTP\r\n"))
					inData := false
					for {
						line, err := r.ReadLine()
						if err != nil {
							return
						}
						switch {
						case inData && line == ".":
							close(stalled)
							r.ReadLine() // until the client closes
							return
						case inData:
						case strings.HasPrefix(line, "DATA"):
							inData = true
							conn.Write([]byte("354 go ahead\r\n"))
						default:
							conn.Write([]byte("250 ok\r\n"))
						}
					}
				}
				close(stalled)
				conn.Read(make([]byte, 1)) // until the client closes
			}()
			s := smtpTo(t, "noreply@example.com", "smtp://"+l.Addr().String())
			// go-mail's own step timeout would end it too; an hour leaves
			// the context as the only way out.
			s.timeout = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Send(ctx, resetMail("ann@example.com")) }()
			<-stalled
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
		})
	}
}

func TestSMTPURL(t *testing.T) {
	for _, c := range []struct {
		name, url string
		want      string // in the error; "" for none
		host      string
		port      int
		tls       bool
		user      string
		pass      string
	}{
		// Hostile and broken first: none may repeat the password.
		{"bad port with password", "smtp://u:secret-pw@host:99999", "not a port number", "", 0, false, "", ""},
		{"unparsable with password", "smtp://u:secret-pw@ho st:25", "does not parse", "", 0, false, "", ""},
		{"bad escape in password", "smtp://u:secret-pw%zz@host", "does not parse", "", 0, false, "", ""},
		{"other scheme", "https://u:secret-pw@host", `scheme "https"`, "", 0, false, "", ""},
		{"no scheme", "host:25", `scheme "host"`, "", 0, false, "", ""},
		{"path", "smtp://u:secret-pw@host/inbox", "path, query or fragment", "", 0, false, "", ""},
		{"query", "smtp://host?tls=off", "path, query or fragment", "", 0, false, "", ""},
		{"opaque", "smtp:host:25", "path, query or fragment", "", 0, false, "", ""},
		{"no host", "smtp://u:secret-pw@:25", "no host", "", 0, false, "", ""},
		{"password without user", "smtp://:secret-pw@host", "no user name", "", 0, false, "", ""},
		{"empty", "", "no SMTP URL", "", 0, false, "", ""},

		{"smtp default port", "smtp://mail.example.com", "", "mail.example.com", 587, false, "", ""},
		{"smtps default port", "smtps://mail.example.com", "", "mail.example.com", 465, true, "", ""},
		{"port", "smtp://mail.example.com:2525", "", "mail.example.com", 2525, false, "", ""},
		{"user only", "smtp://apikey@mail.example.com", "", "mail.example.com", 587, false, "apikey", ""},
		{"escaped credentials", "smtps://AKIA%2Fx:a%2Fb%2Bc%3D%40%3A@email-smtp.eu-west-1.amazonaws.com:465", "", "email-smtp.eu-west-1.amazonaws.com", 465, true, "AKIA/x", "a/b+c=@:"},
		{"IPv6", "smtp://[::1]:1025", "", "::1", 1025, false, "", ""},
		{"trailing slash", "smtp://host/", "", "host", 587, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := NewSMTP("noreply@example.com", c.url)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want %q", err, c.want)
				}
				if strings.Contains(err.Error(), "secret-pw") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.host != c.host || s.port != c.port || s.implicitTLS != c.tls || s.user != c.user || s.pass != c.pass {
				t.Errorf("got %s:%d tls=%v %q %q", s.host, s.port, s.implicitTLS, s.user, s.pass)
			}
		})
	}
	s, err := NewSMTP("noreply@example.com", "smtps://user:secret-pw@mail.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if v := fmtV(s) + fmtV(*s); strings.Contains(v, "secret-pw") {
		t.Errorf("printed sender shows the password: %s", v)
	}
	if s.String() != "smtps://user:***@mail.example.com:465" {
		t.Errorf("String %q", s.String())
	}
}

// A server that is not there: the error says where it tried, not with what.
func TestSMTPUnreachable(t *testing.T) {
	addr := mailpittest.FreeAddr(t)
	err := smtpTo(t, "noreply@example.com", smtpURL("smtp", "user", "secret-pw", addr)).Send(context.Background(), resetMail("ann@example.com"))
	if err == nil || strings.Contains(err.Error(), "secret-pw") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %v", err)
	}
}
