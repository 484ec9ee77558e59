// clock tells the time in any IANA time zone, read from the image's tzdata
// ($ZONEINFO, e.g. /share/zoneinfo).
//
//	GET /?tz=Europe/London        the current time there, RFC 3339
//	GET /at?tz=Asia/Tokyo&unix=0  a given Unix time there (deterministic, for tests)
//	GET /healthz                  "ok"
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", envOr("LISTEN_ADDR", ":8080"), "listen address")
	flag.Parse()

	zone := func(w http.ResponseWriter, r *http.Request) (*time.Location, bool) {
		name := r.URL.Query().Get("tz")
		if name == "" {
			name = "UTC"
		}
		loc, err := time.LoadLocation(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return nil, false
		}
		return loc, true
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if loc, ok := zone(w, r); ok {
			fmt.Fprintln(w, time.Now().In(loc).Format(time.RFC3339))
		}
	})
	mux.HandleFunc("/at", func(w http.ResponseWriter, r *http.Request) {
		loc, ok := zone(w, r)
		if !ok {
			return
		}
		secs, err := strconv.ParseInt(r.URL.Query().Get("unix"), 10, 64)
		if err != nil {
			http.Error(w, "unix: want seconds since the epoch", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, time.Unix(secs, 0).In(loc).Format(time.RFC3339))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})

	log.Printf("clock listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
