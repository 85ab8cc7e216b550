package loaders

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Record is one parsed line of train.jsonl. The scanner reuses a Record
// between lines: copy what you keep.
type Record struct {
	// Line is the 1-based line number in the file, and Offset the number
	// of bytes read up to the end of that line.
	Line   int
	Offset int64
	// Source and Event are the "source" and "event" strings ("" if absent).
	Source, Event string
	// Step is the "step" field; HasStep is false where a line has none.
	Step    float64
	HasStep bool
	// Names and Values are every other numeric field in line order
	// (NaN, Infinity and -Infinity included, booleans and strings not).
	Names  []string
	Values []float64
}

// SkippedLine is a line the log reader could not use.
type SkippedLine struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// maxLogLine bounds one line of train.jsonl; a longer one is skipped, so a
// corrupt file without newlines cannot make the reader buffer it whole.
const maxLogLine = 1 << 20

// ScanTrainLog reads a JSONL log as a stream, calling fn for every line
// that parses as a JSON object, and skip for every other non-blank line
// (garbage, a partial last line, an over-long line). Memory is constant
// whatever the file's size. Python's bare NaN, Infinity and -Infinity
// tokens are accepted as numbers.
func ScanTrainLog(r io.Reader, fn func(*Record) error, skip func(SkippedLine)) error {
	_, err := scanLog(r, fn, skip)
	return err
}

// scanLog is ScanTrainLog, also returning the number of lines read.
func scanLog(r io.Reader, fn func(*Record) error, skip func(SkippedLine)) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		rec  Record
		long []byte
		line int
		read int64
		jp   = jsonParser{intern: map[string]string{}}
	)
	for {
		chunk, err := br.ReadSlice('\n')
		read += int64(len(chunk))
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) <= maxLogLine {
				long = append(long, chunk...)
			} else {
				long = long[:0]
				// Drain the rest of the line, then report it once.
				for errors.Is(err, bufio.ErrBufferFull) {
					var rest []byte
					rest, err = br.ReadSlice('\n')
					read += int64(len(rest))
				}
				line++
				skip(SkippedLine{Line: line, Reason: fmt.Sprintf("line longer than %d bytes", maxLogLine)})
				if err != nil {
					if err == io.EOF {
						return line, nil
					}
					return line, err
				}
				continue
			}
			continue
		}
		if err != nil && err != io.EOF {
			return line, err
		}
		if len(long) > 0 {
			if len(long)+len(chunk) > maxLogLine {
				long = long[:0]
				line++
				skip(SkippedLine{Line: line, Reason: fmt.Sprintf("line longer than %d bytes", maxLogLine)})
				if err == io.EOF {
					return line, nil
				}
				continue
			}
			chunk = append(long, chunk...)
			long = long[:0]
		}
		if len(chunk) > 0 {
			line++
			partial := err == io.EOF && chunk[len(chunk)-1] != '\n'
			text := bytes.TrimSpace(chunk)
			if len(text) > 0 {
				rec.Line, rec.Offset = line, read
				if perr := jp.parseRecord(text, &rec); perr != nil {
					reason := perr.Error()
					if partial {
						reason = "partial last line: " + reason
					}
					skip(SkippedLine{Line: line, Reason: reason})
				} else if ferr := fn(&rec); ferr != nil {
					return line, ferr
				}
			}
		}
		if err == io.EOF {
			return line, nil
		}
	}
}

// parseRecord parses one JSON object line into rec.
func (p *jsonParser) parseRecord(b []byte, rec *Record) error {
	p.b, p.i, p.nstr = b, 0, 0
	rec.Source, rec.Event, rec.Step, rec.HasStep = "", "", 0, false
	rec.Names, rec.Values = rec.Names[:0], rec.Values[:0]
	p.ws()
	if !p.eat('{') {
		return errors.New("not a JSON object")
	}
	p.ws()
	if p.eat('}') {
		return p.end()
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if !p.eat(':') {
			return p.fail("expected ':'")
		}
		p.ws()
		switch c := p.peek(); {
		case c == '"':
			s, err := p.str()
			if err != nil {
				return err
			}
			switch key {
			case "source":
				rec.Source = s
			case "event":
				rec.Event = s
			}
		case c == '{' || c == '[':
			if err := p.skipNested(); err != nil {
				return err
			}
		case c == 't' || c == 'f' || c == 'n':
			if !p.word("true") && !p.word("false") && !p.word("null") {
				return p.fail("invalid literal")
			}
		default:
			v, err := p.number()
			if err != nil {
				return err
			}
			if key == "step" {
				rec.Step, rec.HasStep = v, true
			} else {
				rec.Names = append(rec.Names, key)
				rec.Values = append(rec.Values, v)
			}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return p.end()
		}
		return p.fail("expected ',' or '}'")
	}
}

// jsonParser parses one line at a time; it lives as long as the scan so
// that the strings of one line are reused by the next.
type jsonParser struct {
	b []byte
	i int
	// intern maps the bytes of keys and short values seen before to one
	// string, so a long log allocates per distinct name, not per line.
	intern map[string]string
	// last holds the strings of the previous line by position: log lines
	// repeat their keys in the same order, so comparing with the string at
	// the same position usually avoids hashing.
	last []string
	nstr int
}

// internBytes returns the string of b, reusing an earlier copy.
func (p *jsonParser) internBytes(b []byte) string {
	k := p.nstr
	p.nstr++
	if k < len(p.last) && p.last[k] == string(b) { // no allocation for the comparison
		return p.last[k]
	}
	s, ok := p.intern[string(b)] // no allocation for the lookup
	if !ok {
		s = validUTF8(b)
		if len(p.intern) < 4096 {
			p.intern[s] = s
		}
	}
	if k < len(p.last) {
		p.last[k] = s
	} else if k < 256 {
		p.last = append(p.last, s)
	}
	return s
}

// validUTF8 returns b as a string with every byte that is not part of
// valid UTF-8 replaced by U+FFFD, as encoding/json reads strings: names
// from a log reach file names and pages.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:n])
		}
		b = b[n:]
	}
	return sb.String()
}

func (p *jsonParser) fail(msg string) error {
	if p.i >= len(p.b) {
		return fmt.Errorf("%s at end of line (column %d)", msg, p.i+1)
	}
	return fmt.Errorf("%s at column %d", msg, p.i+1)
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jsonParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.b) {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) word(w string) bool {
	if bytes.HasPrefix(p.b[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *jsonParser) end() error {
	p.ws()
	if p.i != len(p.b) {
		return p.fail("trailing data")
	}
	return nil
}

// str parses a JSON string; escapes are decoded by encoding/json.
func (p *jsonParser) str() (string, error) {
	if !p.eat('"') {
		return "", p.fail("expected string")
	}
	start, escaped := p.i, false
	// Fastest path: the string the previous line had at this position,
	// byte for byte up to its closing quote (those strings hold no quote
	// or backslash).
	if k := p.nstr; k < len(p.last) {
		s := p.last[k]
		if end := start + len(s); end < len(p.b) && p.b[end] == '"' && string(p.b[start:end]) == s {
			p.nstr++
			p.i = end + 1
			return s, nil
		}
	}
	// Fast path: no backslash before the closing quote.
	if q := bytes.IndexByte(p.b[start:], '"'); q >= 0 && bytes.IndexByte(p.b[start:start+q], '\\') < 0 {
		p.i = start + q + 1
		return p.internBytes(p.b[start : start+q]), nil
	}
	for p.i < len(p.b) {
		switch c := p.b[p.i]; c {
		case '\\':
			escaped = true
			p.i += 2
			continue
		case '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				return p.internBytes(raw), nil
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", p.fail("invalid string escape")
			}
			return s, nil
		}
		p.i++
	}
	return "", p.fail("unterminated string")
}

// number parses a JSON number or one of Python's NaN, Infinity, -Infinity.
func (p *jsonParser) number() (float64, error) {
	switch c := p.peek(); {
	case c == 'N' && p.word("NaN"):
		return math.NaN(), nil
	case c == 'I' && p.word("Infinity"):
		return math.Inf(1), nil
	case c == '-' && p.word("-Infinity"):
		return math.Inf(-1), nil
	}
	if v, end, ok := fastNumber(p.b, p.i); ok {
		p.i = end
		return v, nil
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, p.fail("invalid value")
	}
	// The string view is not retained: ParseFloat only reads it.
	v, err := strconv.ParseFloat(unsafe.String(&p.b[start], p.i-start), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return v, nil // ±Inf or 0 on overflow/underflow, as Python does
		}
		return 0, p.fail("invalid number")
	}
	return v, nil
}

// maxJSONDepth bounds nested values skipped in a log line.
const maxJSONDepth = 512

// skipNested skips an object or array, strings inside included.
func (p *jsonParser) skipNested() error {
	depth := 0
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '"':
			if _, err := p.str(); err != nil {
				return err
			}
			continue
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return p.fail("nesting too deep")
			}
		case '}', ']':
			depth--
			if depth == 0 {
				p.i++
				return nil
			}
		}
		p.i++
	}
	return p.fail("unterminated value")
}

// eightDigits returns the value of b[:8] if all eight bytes are ASCII
// digits (SWAR: a byte is a digit when its high nibble is 3 and adding 6
// does not carry into it).
func eightDigits(b []byte) (uint64, bool) {
	v := binary.LittleEndian.Uint64(b)
	if v&0xF0F0F0F0F0F0F0F0 != 0x3030303030303030 || (v+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 != 0x3030303030303030 {
		return 0, false
	}
	v -= 0x3030303030303030
	v = (v*10 + v>>8) & 0x00FF00FF00FF00FF
	v = (v*100 + v>>16) & 0x0000FFFF0000FFFF
	return (v*10000 + v>>32) & 0xFFFFFFFF, true
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastNumber parses the JSON number at b[i:] when its decimal mantissa fits
// in 64 bits. With a mantissa of at most 53 bits and a decimal exponent in
// ±22, float64(mantissa) and the power of ten are exact, so one IEEE
// multiply or divide rounds correctly (Clinger's fast path, the one strconv
// itself tries first); other mantissas go to Eisel–Lemire. Either way the
// result equals strconv.ParseFloat's. ok is false for anything else (19+
// digits, big exponents, odd spellings), which the caller hands to strconv.
func fastNumber(b []byte, i int) (v float64, end int, ok bool) {
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	exp, digits := 0, 0
	for ; i < len(b) && b[i]-'0' < 10; i++ {
		if mant >= 1<<59 {
			return 0, 0, false
		}
		mant = mant*10 + uint64(b[i]-'0')
		digits++
	}
	if digits == 0 {
		return 0, 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		frac := 0
		// Eight digits at a time while no digit among them could reach the
		// bound below: the loggers' floats have 16 or 17 of them.
		for mant < (1<<59)/100000000 && i+8 <= len(b) {
			d, ok := eightDigits(b[i : i+8])
			if !ok {
				break
			}
			mant = mant*1e8 + d
			exp -= 8
			frac += 8
			i += 8
		}
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			if mant >= 1<<59 {
				return 0, 0, false
			}
			mant = mant*10 + uint64(b[i]-'0')
			exp--
			frac++
		}
		if frac == 0 {
			return 0, 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		e, ed := 0, 0
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			if e > 1000 {
				return 0, 0, false
			}
			e = e*10 + int(b[i]-'0')
			ed++
		}
		if ed == 0 {
			return 0, 0, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	// A character strconv's span would take in means an odd spelling.
	if i < len(b) {
		switch b[i] {
		case '-', '+', '.', 'e', 'E':
			return 0, 0, false
		}
	}
	if mant > 1<<53 || exp < -22 || exp > 22 {
		v, ok = eiselLemire64(mant, exp, neg)
		return v, i, ok
	}
	v = float64(mant)
	if exp > 0 {
		v *= pow10[exp]
	} else if exp < 0 {
		v /= pow10[-exp]
	}
	if neg {
		v = -v
	}
	return v, i, true
}
