// Command imageproxy is the image proxy Lambda: a generation's image bytes,
// for their owner (internal/functions/imageproxy).
package main

import (
	"adstudio/internal/functions/history"
	"adstudio/internal/functions/imageproxy"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

func main() {
	lambdaentry.Run(routes.ImageProxy, func(c *server.Core, _ lambdaentry.Env) (lambdaentry.Function, error) {
		h, err := c.Handler(imageproxy.Part(history.New(c)))
		return lambdaentry.Function{Handler: h}, err
	})
}
