// Command etcd is the upstream etcd server, unchanged; see go.mod for why it has a wrapper module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
