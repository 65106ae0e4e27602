// Command infra is the adstudio CDK app: `npx cdk synth` / `npx cdk deploy`
// run it from this directory (cdk.json: "go run ."). Settings come from CDK
// context (-c key=value); README.md lists the keys.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"adstudio/infra/stack"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
}

func run() error {
	a := awscdk.NewApp(nil)
	props, err := stack.FromContext(a)
	if err != nil {
		return err
	}
	if err := stack.CheckAssets(props.AssetRoot); err != nil {
		return err
	}
	name := stack.DefaultStackName
	if v, ok := a.Node().TryGetContext(jsii.String("stackName")).(string); ok && v != "" {
		name = v
	}
	// No Env: the template is environment-agnostic, and `cdk deploy` targets
	// the account and region of the current AWS credentials/profile.
	stack.New(a, name, props)
	a.Synth(nil)
	return nil
}
