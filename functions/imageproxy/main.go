// Command imageproxy is the imageproxy Lambda: it serves the routes the route table gives
// to app.ImageProxy.
package main

import (
	"adstudio/internal/app"
	"adstudio/internal/lambdaentry"
)

func main() { lambdaentry.Run(app.ImageProxy) }
