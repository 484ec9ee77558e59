// geodb-gen writes the example's "geo database": 2^19 fixed-size city records covering
// the IPv4 space in equal ranges, about 32 MiB. The content is pseudo-random but fully
// determined by the seed, so the Nix build of geodb is reproducible.
//
// Layout (little-endian header, big-endian addresses):
//
//	header  16 bytes: "GEODB\x00\x01\x00", record count u32, record size u32
//	record  64 bytes: ipStart u32, ipEnd u32, lat i32, lon i32 (1e-5 degrees),
//	        country [2]byte, city [46]byte (NUL padded)
package main

import (
	"bufio"
	"encoding/binary"
	"log"
	"os"
)

const (
	records    = 1 << 19
	recordSize = 64
)

var syllables = []string{
	"ka", "lo", "mi", "ran", "tos", "vel", "dor", "ba", "ne", "qui", "zar", "em",
	"ath", "ul", "pra", "gon", "si", "ter", "wick", "ham", "ford", "by", "ton", "ville",
}

var countries = []string{
	"GB", "FR", "DE", "NL", "BE", "ES", "PT", "IT", "CH", "AT", "SE", "NO", "FI", "DK",
	"IE", "PL", "CZ", "GR", "US", "CA", "MX", "BR", "AR", "CL", "JP", "KR", "CN", "IN",
	"AU", "NZ", "ZA", "EG", "NG", "KE", "MA", "TR", "IL", "AE", "SG", "ID",
}

// splitmix64: tiny, well-mixed, and the same everywhere.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: geodb-gen OUT")
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)

	header := make([]byte, 16)
	copy(header, "GEODB\x00\x01\x00")
	binary.LittleEndian.PutUint32(header[8:], records)
	binary.LittleEndian.PutUint32(header[12:], recordSize)
	w.Write(header)

	r := &rng{s: 42}
	span := uint64(1<<32) / records
	rec := make([]byte, recordSize)
	for i := uint64(0); i < records; i++ {
		for j := range rec {
			rec[j] = 0
		}
		binary.BigEndian.PutUint32(rec[0:], uint32(i*span))
		binary.BigEndian.PutUint32(rec[4:], uint32(i*span+span-1))
		v := r.next()
		lat := int32(v%18000000) - 9000000
		lon := int32((v>>32)%36000000) - 18000000
		binary.BigEndian.PutUint32(rec[8:], uint32(lat))
		binary.BigEndian.PutUint32(rec[12:], uint32(lon))
		copy(rec[16:18], countries[r.next()%uint64(len(countries))])
		name := make([]byte, 0, 46)
		n := 2 + r.next()%3
		for k := uint64(0); k < n; k++ {
			name = append(name, syllables[r.next()%uint64(len(syllables))]...)
		}
		name[0] -= 'a' - 'A'
		copy(rec[18:], name)
		w.Write(rec)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
