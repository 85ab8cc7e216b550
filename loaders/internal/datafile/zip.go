package datafile

import (
	"archive/zip"
	"bytes"
	"io"
)

// MaxInflateRatio and MaxInflateTotal bound what a zip member (of a torch
// file, an .npz or a model zip) may inflate to. Torch writes members stored
// (uncompressed), so a deflated member only comes from re-zipping tools; 64×
// the file size covers any real compression ratio of float data while a zip
// bomb is stopped early.
const (
	MaxInflateRatio = 64
	MaxInflateTotal = 4 << 30
)

// ReadZipMember reads a whole zip member through a limit (see
// MaxInflateRatio), checking what a stored member claims; fileSize names
// the archive's size in the error.
func ReadZipMember(zf *zip.File, fileSize, limit int64) ([]byte, error) {
	if zf.Method == zip.Store && zf.CompressedSize64 != zf.UncompressedSize64 {
		return nil, Invalidf("%s: stored member with compressed size %d != size %d", zf.Name, zf.CompressedSize64, zf.UncompressedSize64)
	}
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, Invalidf("%s claims to inflate to %d bytes, more than the limit of %d for a %d-byte file (zip bomb?)", zf.Name, zf.UncompressedSize64, limit, fileSize)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, Invalidf("open %s: %v", zf.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, Invalidf("read %s: %v (corrupt or truncated archive)", zf.Name, err)
	}
	if n > limit {
		return nil, Invalidf("%s inflates past the limit of %d bytes (zip bomb?)", zf.Name, limit)
	}
	return buf.Bytes(), nil
}
