// geoip answers "where is this IPv4 address?" from the shared geo database.
//
//	GET /lookup?ip=1.2.3.4   {"ip","country","city","lat","lon"} as JSON
//	GET /healthz             "ok"
//
// The database path is set at link time (-X main.dbPath=<geodb store path>/...), which
// is how the geodb store path becomes part of this program's closure.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
)

var dbPath = "/share/geodb/cities.geodb"

type city struct {
	IP      string  `json:"ip,omitempty"`
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
	count := binary.LittleEndian.Uint32(data[8:])
	size := binary.LittleEndian.Uint32(data[12:])
	span := uint64(1<<32) / uint64(count)

	mux := http.NewServeMux()
	mux.HandleFunc("/lookup", func(w http.ResponseWriter, r *http.Request) {
		ip := net.ParseIP(r.URL.Query().Get("ip")).To4()
		if ip == nil {
			http.Error(w, "ip: want an IPv4 address", http.StatusBadRequest)
			return
		}
		i := uint64(binary.BigEndian.Uint32(ip)) / span
		off := 16 + i*uint64(size)
		c := decode(data[off : off+uint64(size)])
		c.IP = ip.String()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %d records\n", count)
	})

	log.Printf("geoip: %d records from %s, listening on %s", count, *db, *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func decode(rec []byte) city {
	return city{
		Country: string(rec[16:18]),
		City:    strings.TrimRight(string(rec[18:]), "\x00"),
		Lat:     float64(int32(binary.BigEndian.Uint32(rec[8:]))) / 1e5,
		Lon:     float64(int32(binary.BigEndian.Uint32(rec[12:]))) / 1e5,
	}
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
