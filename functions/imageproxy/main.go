// Command imageproxy is the imageproxy Lambda: it serves the routes the route table gives
// to app.ImageProxy.
package main

import (
	"adstudio/pkg/app"
	"adstudio/pkg/lambdaentry"
)

func main() { lambdaentry.Run(app.ImageProxy) }
