// relay forwards webhooks to an HTTPS upstream ($UPSTREAM_URL), verifying the upstream
// with the image's CA bundle ($SSL_CERT_FILE or /etc/ssl/certs/ca-certificates.crt).
//
//	POST /hook     forwards the body to the upstream, answers with its status
//	GET  /trust    how many CA certificates were loaded, as JSON
//	GET  /healthz  "ok"
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", envOr("LISTEN_ADDR", ":8080"), "listen address")
	upstream := flag.String("upstream", os.Getenv("UPSTREAM_URL"), "where to forward hooks")
	flag.Parse()

	bundle := envOr("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
	pemData, err := os.ReadFile(bundle)
	if err != nil {
		log.Fatalf("CA bundle: %v", err)
	}
	pool := x509.NewCertPool()
	certs := 0
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			pool.AddCert(c)
			certs++
		}
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		if *upstream == "" {
			http.Error(w, "no upstream configured", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		resp, err := client.Post(*upstream, r.Header.Get("Content-Type"), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})
	mux.HandleFunc("/trust", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"bundle": bundle, "certificates": certs})
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})

	log.Printf("relay: %d CA certificates from %s, listening on %s", certs, bundle, *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
