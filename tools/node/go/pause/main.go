// Command pause is the real node's pod sandbox process: it holds the pod's namespaces and does
// nothing else until it is told to stop (SIGTERM or SIGINT), then exits 0. Built statically and
// imported into containerd as the sandbox image, so the node never pulls one.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
