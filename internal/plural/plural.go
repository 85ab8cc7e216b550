// Package plural writes counts with their nouns, in the singular for 1.
package plural

import (
	"strconv"
	"strings"
)

// N returns n and the noun, in the plural unless n is 1: "1 run",
// "2 runs", "0 batches".
func N(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	switch {
	case n == 1:
		return s
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return s + "es"
	}
	return s + "s"
}
