// Command history is the history Lambda: it serves the routes the route table gives
// to app.History.
package main

import (
	"adstudio/pkg/app"
	"adstudio/pkg/lambdaentry"
)

func main() { lambdaentry.Run(app.History) }
