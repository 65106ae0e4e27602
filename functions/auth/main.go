// Command auth is the auth Lambda: better-auth's endpoints, /api/me and the
// CORS preflights (internal/functions/auth).
package main

import (
	"log/slog"

	"adstudio/internal/functions/auth"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

func main() {
	lambdaentry.Run(routes.Auth, func(c *server.Core, env lambdaentry.Env) (lambdaentry.Function, error) {
		m, err := auth.Mailer(c.Config, env.Getenv, env.AWSConfig, slog.Default())
		if err != nil {
			return lambdaentry.Function{}, err
		}
		h, err := auth.New(c, auth.Options{Mail: m}).Handler()
		return lambdaentry.Function{Handler: h}, err
	})
}
