// quotes serves Douglas Adams quotes over HTTP, one per request, in rotation.
//
//	GET /          a quote as text
//	GET /quotes    every quote as JSON
//	GET /healthz   "ok"
//
// The listen address comes from -addr, else $LISTEN_ADDR, else :8080.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync/atomic"
)

var quotes = []string{
	"Don't Panic.",
	"The answer to the ultimate question of life, the universe, and everything is 42.",
	"I love deadlines. I love the whooshing noise they make as they go by.",
	"Time is an illusion. Lunchtime doubly so.",
	"A common mistake that people make when trying to design something completely foolproof is to underestimate the ingenuity of complete fools.",
	"So long, and thanks for all the fish.",
	"The ships hung in the sky in much the same way that bricks don't.",
	"Would it save you a lot of time if I just gave up and went mad now?",
	"In the beginning the Universe was created. This has made a lot of people very angry and been widely regarded as a bad move.",
	"For a moment, nothing happened. Then, after a second or so, nothing continued to happen.",
	"He was a dreamer, a thinker, a speculative philosopher... or, as his wife would have it, an idiot.",
	"Anything that happens, happens.",
}

func main() {
	addr := flag.String("addr", envOr("LISTEN_ADDR", ":8080"), "listen address")
	flag.Parse()

	var next atomic.Uint64
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		i := (next.Add(1) - 1) % uint64(len(quotes))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s\n  -- Douglas Adams\n", quotes[i])
	})
	mux.HandleFunc("/quotes", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(quotes)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})

	log.Printf("quotes listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
