// Command history is the history Lambda: list, detail and delete, and the
// credit packs sold through Stripe (internal/functions/history).
package main

import (
	"adstudio/internal/functions/billing"
	"adstudio/internal/functions/history"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

func main() {
	lambdaentry.Run(routes.History, func(c *server.Core, _ lambdaentry.Env) (lambdaentry.Function, error) {
		h, err := c.Handler(history.Part(history.New(c), billing.New(c)))
		return lambdaentry.Function{Handler: h}, err
	})
}
