// Command auth is the auth Lambda: better-auth's endpoints, /api/me and the
// CORS preflights (internal/functions/auth).
package main

import (
	"adstudio/internal/functions/auth"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

func main() {
	lambdaentry.Run(routes.Auth, func(c *server.Core, _ lambdaentry.Env) (lambdaentry.Function, error) {
		h, err := auth.New(c).Handler()
		return lambdaentry.Function{Handler: h}, err
	})
}
