// Command history is the history Lambda: it serves the routes the route table gives
// to app.History.
package main

import (
	"adstudio/internal/app"
	"adstudio/internal/lambdaentry"
)

func main() { lambdaentry.Run(app.History) }
