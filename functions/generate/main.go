// Command generate is the generate Lambda: the image workflows, their
// asynchronous continuations and the scheduled sweep
// (internal/functions/generate).
package main

import (
	"adstudio/internal/functions/generate"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

func main() {
	lambdaentry.Run(routes.Generate, func(c *server.Core, env lambdaentry.Env) (lambdaentry.Function, error) {
		d, err := env.SelfInvoker()
		if err != nil {
			return lambdaentry.Function{}, err
		}
		g := generate.New(c, generate.Options{Dispatcher: d})
		h, err := c.Handler(g.Part())
		return lambdaentry.Function{Handler: h, Events: lambdaentry.GenerateEvents(c.Sweep, g.Runner.Continue)}, err
	})
}
