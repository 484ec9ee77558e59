// atlas lists and counts cities of the shared geo database by country.
//
//	GET /countries              {"GB": n, ...} as JSON
//	GET /cities?country=GB&n=10 the first n cities of a country as JSON
//	GET /healthz                "ok"
//
// Like geoip, the database path is a link-time store path (-X main.dbPath=...).
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
)

var dbPath = "/share/geodb/cities.geodb"

type city struct {
	Country string  `json:"country"`
	City    string  `json:"city"`
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
}

func main() {
	addr := flag.String("addr", envOr("LISTEN_ADDR", ":8080"), "listen address")
	db := flag.String("db", envOr("GEODB", dbPath), "geo database")
	flag.Parse()

	data, err := os.ReadFile(*db)
	if err != nil {
		log.Fatal(err)
	}
	if len(data) < 16 || string(data[:8]) != "GEODB\x00\x01\x00" {
		log.Fatalf("%s: not a geo database", *db)
	}
	count := int(binary.LittleEndian.Uint32(data[8:]))
	size := int(binary.LittleEndian.Uint32(data[12:]))
	record := func(i int) []byte { return data[16+i*size : 16+(i+1)*size] }

	perCountry := map[string]int{}
	for i := 0; i < count; i++ {
		perCountry[string(record(i)[16:18])]++
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/countries", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(perCountry)
	})
	mux.HandleFunc("/cities", func(w http.ResponseWriter, r *http.Request) {
		country := strings.ToUpper(r.URL.Query().Get("country"))
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n <= 0 {
			n = 10
		}
		out := []city{}
		for i := 0; i < count && len(out) < n; i++ {
			rec := record(i)
			if string(rec[16:18]) != country {
				continue
			}
			out = append(out, city{
				Country: country,
				City:    strings.TrimRight(string(rec[18:]), "\x00"),
				Lat:     float64(int32(binary.BigEndian.Uint32(rec[8:]))) / 1e5,
				Lon:     float64(int32(binary.BigEndian.Uint32(rec[12:]))) / 1e5,
			})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})

	log.Printf("atlas: %d records in %d countries, listening on %s", count, len(perCountry), *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
