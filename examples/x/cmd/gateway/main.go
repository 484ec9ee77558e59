// gateway routes requests by path prefix to the other services ($ROUTES, e.g.
// "/quotes=http://quotes:8080,/geo=http://geoip:8080"). Its image is built on a busybox
// base image (fromImage) so operators get a shell for debugging.
//
//	GET /routes   the route table as JSON
//	GET /healthz  "ok"
//	anything else proxied to the longest matching prefix
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
)

type route struct {
	Prefix string `json:"prefix"`
	Target string `json:"target"`
	proxy  *httputil.ReverseProxy
}

func main() {
	addr := flag.String("addr", envOr("LISTEN_ADDR", ":8080"), "listen address")
	spec := flag.String("routes", os.Getenv("ROUTES"), "prefix=url,...")
	flag.Parse()

	var routes []route
	for _, part := range strings.Split(*spec, ",") {
		prefix, target, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		u, err := url.Parse(target)
		if err != nil {
			log.Fatalf("route %q: %v", part, err)
		}
		routes = append(routes, route{Prefix: prefix, Target: target, proxy: httputil.NewSingleHostReverseProxy(u)})
	}
	sort.Slice(routes, func(i, j int) bool { return len(routes[i].Prefix) > len(routes[j].Prefix) })

	mux := http.NewServeMux()
	mux.HandleFunc("/routes", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(routes)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		for _, rt := range routes {
			if strings.HasPrefix(r.URL.Path, rt.Prefix) {
				r.URL.Path = "/" + strings.TrimLeft(strings.TrimPrefix(r.URL.Path, rt.Prefix), "/")
				rt.proxy.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	})

	log.Printf("gateway: %d routes, listening on %s", len(routes), *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
