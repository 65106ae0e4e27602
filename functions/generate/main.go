// Command generate is the generate Lambda: it serves the routes the route table gives
// to app.Generate.
package main

import (
	"adstudio/internal/app"
	"adstudio/internal/lambdaentry"
)

func main() { lambdaentry.Run(app.Generate) }
