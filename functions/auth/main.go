// Command auth is the auth Lambda: it serves the routes the route table gives
// to app.Auth.
package main

import (
	"adstudio/pkg/app"
	"adstudio/pkg/lambdaentry"
)

func main() { lambdaentry.Run(app.Auth) }
