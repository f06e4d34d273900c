// Command httpd is the integration tests' container (and, run on the host or in a network
// namespace, their peer): a static HTTP server that answers GET / with who it runs as, and GET
// /write?path=P by writing a file at P (to prove a volume is writable by the pod's user). It also
// probes the network from where it runs: GET /dial?net=tcp|udp&addr=HOST:PORT answers "open" when
// a TCP connection is accepted or a UDP datagram is echoed back, else "closed: <why>" (the
// NetworkPolicy tests). On the same port number it echoes UDP datagrams. It logs one line per
// request, so `kubectl logs` has something to show.
//
// Flags: -addr (default :8080) for HTTP and the UDP echo; -tcp more HTTP addresses and -udp more
// UDP echo addresses (comma-separated, e.g. :53 for a DNS stand-in).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", ":8080", "HTTP listen address; UDP datagrams to the same port are echoed")
	extraTCP := flag.String("tcp", "", "more HTTP listen addresses, comma-separated (e.g. :53)")
	extraUDP := flag.String("udp", "", "more UDP echo addresses, comma-separated (e.g. :53)")
	flag.Parse()

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		log.Printf("GET %s from %s", r.URL.Path, r.RemoteAddr)
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
	http.HandleFunc("/dial", func(w http.ResponseWriter, r *http.Request) {
		network, target := r.URL.Query().Get("net"), r.URL.Query().Get("addr")
		result := dial(network, target)
		log.Printf("dial %s %s: %s", network, target, result)
		fmt.Fprintln(w, result)
	})

	udp := []string{*addr}
	if *extraUDP != "" {
		udp = append(udp, strings.Split(*extraUDP, ",")...)
	}
	for _, a := range udp {
		conn, err := net.ListenPacket("udp", a)
		if err != nil {
			log.Fatalf("udp echo on %s: %v", a, err)
		}
		go echo(conn)
	}
	if *extraTCP != "" {
		for _, a := range strings.Split(*extraTCP, ",") {
			ln, err := net.Listen("tcp", a)
			if err != nil {
				log.Fatalf("http on %s: %v", a, err)
			}
			go func() { log.Fatal(http.Serve(ln, nil)) }()
		}
	}
	log.Printf("listening on %s (HTTP, UDP echo); HTTP also on [%s], UDP echo also on [%s]", *addr, *extraTCP, *extraUDP)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

func echo(conn net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = conn.WriteTo(buf[:n], from)
	}
}

// dial reports whether `target` answers: a TCP connection accepted, or a UDP datagram echoed.
func dial(network, target string) string {
	const timeout = 2 * time.Second
	switch network {
	case "tcp":
		c, err := net.DialTimeout("tcp", target, timeout)
		if err != nil {
			return "closed: " + err.Error()
		}
		c.Close()
		return "open"
	case "udp":
		c, err := net.DialTimeout("udp", target, timeout)
		if err != nil {
			return "closed: " + err.Error()
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte("vdi-probe")); err != nil {
			return "closed: " + err.Error()
		}
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil {
			return "closed: " + err.Error()
		}
		if string(buf[:n]) != "vdi-probe" {
			return "closed: unexpected answer " + fmt.Sprintf("%q", buf[:n])
		}
		return "open"
	}
	return "closed: net must be tcp or udp"
}
