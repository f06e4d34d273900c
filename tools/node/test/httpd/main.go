// Command httpd is the integration test's container: a static HTTP server on :8080 that answers
// GET / with who it runs as, and GET /write?path=P by writing a file at P (to prove a volume is
// writable by the pod's user). It logs one line per request, so `kubectl logs` has something to show.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("GET %s", r.URL.Path)
		fmt.Fprintf(w, "vdi-node httpd uid=%d gid=%d\n", os.Getuid(), os.Getgid())
	})
	http.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("path")
		log.Printf("write %s", p)
		if err := os.WriteFile(p, []byte("written by uid "+fmt.Sprint(os.Getuid())+"\n"), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "wrote %s\n", p)
	})
	log.Printf("listening on :8080")
	log.Fatal(http.ListenAndServe(":8080", nil))
}
