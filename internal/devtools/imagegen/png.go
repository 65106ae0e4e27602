package imagegen

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
)

// encodePNG writes an opaque *image.RGBA as an 8-bit RGBA PNG with no row
// filters, deflated at BestSpeed.
//
// Why not image/png: its encoder tries all five row filters on every row
// even at BestSpeed, which is 40% of a render, and converts every pixel to
// RGB. Our pictures are flat rows and a little text, which deflate
// compresses well unfiltered, and RGBA rows are written with one copy each.
// An opaque RGBA image has the same bytes as the NRGBA that PNG's colour
// type 6 stores.
func encodePNG(img *image.RGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")

	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6 // bit depth 8, colour type RGBA; no interlace
	writeChunk(&out, "IHDR", ihdr[:])

	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed) // the level is valid
	rowBytes := 4 * w
	line := make([]byte, 1+rowBytes) // filter type 0 (None), then the row
	for y := range h {
		off := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		copy(line[1:], img.Pix[off:off+rowBytes])
		zw.Write(line) // writes to a bytes.Buffer cannot fail
	}
	zw.Close()
	writeChunk(&out, "IDAT", idat.Bytes())
	writeChunk(&out, "IEND", nil)
	return out.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}
