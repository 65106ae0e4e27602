// Command auth is the auth Lambda: it serves the routes the route table gives
// to app.Auth.
package main

import (
	"adstudio/internal/app"
	"adstudio/internal/lambdaentry"
)

func main() { lambdaentry.Run(app.Auth) }
