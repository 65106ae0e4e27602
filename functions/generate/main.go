// Command generate is the generate Lambda: it serves the routes the route table gives
// to app.Generate.
package main

import (
	"adstudio/pkg/app"
	"adstudio/pkg/lambdaentry"
)

func main() { lambdaentry.Run(app.Generate) }
