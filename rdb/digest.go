package rdb

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
)

// The dataset digest of DEBUG DIGEST and DEBUG DIGEST-VALUE, computed the way Redis
// 7.0's debug.c does (SHA1 mixing of each key and value, XOR across keys, the database
// number mixed in before each database's keys), so the same dataset gives the same
// hex string in kv and in Redis. It works on neutral Values, so the server, the tests
// and `kv rdb inspect` share it.

// Digest is a 20-byte digest.
type Digest [20]byte

// String is the digest as DEBUG DIGEST prints it.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// xorHash XORs SHA1(b) into d.
func (d *Digest) xorHash(b []byte) {
	h := sha1.Sum(b)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mix XORs SHA1(b) into d, then replaces d by SHA1(d): order matters from here on.
func (d *Digest) mix(b []byte) {
	d.xorHash(b)
	*d = sha1.Sum(d[:])
}

// xorDigest XORs SHA1(o) into d, as Redis's xorDigest does with any buffer.
func (d *Digest) xorDigest(o *Digest) { d.xorHash(o[:]) }

// ValueDigest is DEBUG DIGEST-VALUE of one value.
func ValueDigest(v *Value, hasTTL bool) Digest {
	var d Digest
	d.value(v, hasTTL)
	return d
}

// value folds a value into d as xorObjectDigest does: its type, its content (in order
// for lists, order-free for sets, hashes and sorted sets) and whether it has a TTL.
func (d *Digest) value(v *Value, hasTTL bool) {
	var aux [4]byte
	binary.BigEndian.PutUint32(aux[:], uint32(v.Kind))
	d.mix(aux[:])
	switch v.Kind {
	case KindString:
		d.mix(v.Str)
	case KindList:
		for _, el := range v.List {
			d.mix(el)
		}
	case KindSet:
		if v.Ints != nil {
			var buf [20]byte
			for _, n := range v.Ints {
				d.xorHash(strconv.AppendInt(buf[:0], n, 10))
			}
		} else {
			for _, m := range v.Set {
				d.xorHash(m)
			}
		}
	case KindZSet:
		for _, m := range v.ZSet {
			var el Digest
			el.mix(m.Member)
			el.mix(digestScore(m.Score))
			d.xorDigest(&el)
		}
	case KindHash:
		for _, fv := range v.Hash {
			var el Digest
			el.mix(fv[0])
			el.mix(fv[1])
			d.xorDigest(&el)
		}
	}
	if hasTTL {
		d.xorHash([]byte("!!expire!!"))
	}
}

// digestScore formats a score as C's "%.17g".
func digestScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case math.IsNaN(f):
		return []byte("nan")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// DatasetDigest accumulates DEBUG DIGEST over keys given in any order.
type DatasetDigest struct {
	dbs map[int]*Digest
}

// Add folds in one key.
func (dd *DatasetDigest) Add(db int, key []byte, v *Value, hasTTL bool) {
	if dd.dbs == nil {
		dd.dbs = map[int]*Digest{}
	}
	acc := dd.dbs[db]
	if acc == nil {
		acc = new(Digest)
		dd.dbs[db] = acc
	}
	var k Digest
	k.mix(key)
	k.value(v, hasTTL)
	acc.xorDigest(&k)
}

// Sum is the dataset digest: for each database in ascending order, its number mixed
// in, then its keys XORed. An empty dataset is all zeros.
func (dd *DatasetDigest) Sum() Digest {
	var final Digest
	max := -1
	for db := range dd.dbs {
		max = maxInt(max, db)
	}
	for db := 0; db <= max; db++ {
		acc, ok := dd.dbs[db]
		if !ok {
			continue
		}
		var aux [4]byte
		binary.BigEndian.PutUint32(aux[:], uint32(db))
		final.mix(aux[:])
		// acc already holds the XOR of the SHA1s of the keys' digests.
		for i := range final {
			final[i] ^= acc[i]
		}
	}
	return final
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
