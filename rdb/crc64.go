package rdb

// Redis checksums RDB files and DUMP payloads with CRC-64/Jones: reflected, polynomial
// 0xad93d23594c935a9, initial value 0 and no final xor. hash/crc64 cannot express it
// because it always inverts the value before and after.
const crcJonesReflected = 0x95ac9329ac4bc9b5

var crcTable = func() (t [8][256]uint64) {
	for i := 0; i < 256; i++ {
		c := uint64(i)
		for j := 0; j < 8; j++ {
			if c&1 == 1 {
				c = c>>1 ^ crcJonesReflected
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	// Slicing-by-8 tables: each folds one more byte of the input per lookup.
	for i := 0; i < 256; i++ {
		c := t[0][i]
		for k := 1; k < 8; k++ {
			c = t[0][c&0xff] ^ c>>8
			t[k][i] = c
		}
	}
	return t
}()

// CRC64 continues the checksum crc over p.
func CRC64(crc uint64, p []byte) uint64 {
	for len(p) >= 8 {
		crc ^= uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
			uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
		crc = crcTable[7][crc&0xff] ^ crcTable[6][crc>>8&0xff] ^ crcTable[5][crc>>16&0xff] ^
			crcTable[4][crc>>24&0xff] ^ crcTable[3][crc>>32&0xff] ^ crcTable[2][crc>>40&0xff] ^
			crcTable[1][crc>>48&0xff] ^ crcTable[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = crcTable[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
