package loaders

import (
	"math"
	"math/big"
	"math/bits"
)

// Log lines are mostly float32 values printed by Python as 17-digit
// doubles (loss.item()), which Clinger's fast path cannot take: their
// mantissa needs more than 53 bits. The Eisel–Lemire algorithm below (as
// in Go's strconv, which it must match bit for bit; see
// TestFastNumberMatchesParseFloat and FuzzFastNumber) converts them with
// two 64-bit multiplications, where strconv.ParseFloat would first re-scan
// the text. Exponents outside elMin..elMax go to strconv.

const (
	elMin = -40
	elMax = 40
)

// elPow10 holds 10^e for e in elMin..elMax as 128-bit mantissas with the
// top bit set, rounded down, like strconv's pow10Tab; built at start-up.
var elPow10 = func() (tab [elMax - elMin + 1][2]uint64) {
	one := big.NewInt(1)
	b1p64 := new(big.Int).Lsh(one, 64)
	r1p128 := new(big.Rat).SetInt(new(big.Int).Lsh(one, 128))
	r2 := big.NewRat(2, 1)
	for e := elMin; e <= elMax; e++ {
		var r *big.Rat
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(e, -e))), nil)
		if e >= 0 {
			r = new(big.Rat).SetInt(p)
		} else {
			r = new(big.Rat).SetFrac(one, p)
		}
		for r.Cmp(r1p128) < 0 {
			r.Mul(r, r2)
		}
		for r.Cmp(r1p128) >= 0 {
			r.Quo(r, r2)
		}
		d := new(big.Int).Div(r.Num(), r.Denom())
		hi, lo := new(big.Int).DivMod(d, b1p64, new(big.Int))
		tab[e-elMin] = [2]uint64{hi.Uint64(), lo.Uint64()}
	}
	return tab
}()

// eiselLemire64 returns man × 10^exp10 correctly rounded, or ok false
// when the algorithm cannot decide (then strconv must).
func eiselLemire64(man uint64, exp10 int, neg bool) (f float64, ok bool) {
	if man == 0 {
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if exp10 < elMin || exp10 > elMax {
		return 0, false
	}
	pow := elPow10[exp10-elMin]
	exp2 := 1 + (exp10*108853)>>15 // floor(exp10 × log2(10))
	clz := bits.LeadingZeros64(man)
	man <<= uint(clz)
	retExp2 := uint64(exp2+63+1023) - uint64(clz)
	xHi, xLo := bits.Mul64(man, pow[0])
	if xHi&0x1FF == 0x1FF && xLo+man < man {
		yHi, yLo := bits.Mul64(man, pow[1])
		mergedHi, mergedLo := xHi, xLo+yHi
		if mergedLo < xLo {
			mergedHi++
		}
		if mergedHi&0x1FF == 0x1FF && mergedLo+1 == 0 && yLo+man < man {
			return 0, false
		}
		xHi, xLo = mergedHi, mergedLo
	}
	msb := xHi >> 63
	retMantissa := xHi >> (msb + 9)
	retExp2 -= 1 ^ msb
	if xLo == 0 && xHi&0x1FF == 0 && retMantissa&3 == 1 {
		return 0, false
	}
	retMantissa += retMantissa & 1
	retMantissa >>= 1
	if retMantissa>>53 > 0 {
		retMantissa >>= 1
		retExp2++
	}
	if retExp2-1 >= 0x7FF-1 {
		return 0, false
	}
	retBits := retExp2<<52 | retMantissa&(1<<52-1)
	if neg {
		retBits |= 1 << 63
	}
	return math.Float64frombits(retBits), true
}
