// Command kube-apiserver is the upstream API server, unchanged: only the entry point lives here so that the
// module pins and replaces dependencies as the upstream repository does (see go.mod).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
