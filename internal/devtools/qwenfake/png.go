package qwenfake

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveImage answers GET /results/<id>.png?Expires=<unix> like the
// provider's object storage: 403 without a valid, unexpired Expires, 404 for
// unknown ids (and the broken-image scenario), else real PNG bytes of the
// result's size with Content-Type image/png.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.downloads++
	s.mu.Unlock()

	id, ok := strings.CutSuffix(r.PathValue("file"), ".png")
	exp, err := strconv.ParseInt(r.URL.Query().Get("Expires"), 10, 64)
	if err != nil || time.Now().Unix() > exp {
		ossError(w, http.StatusForbidden, "AccessDenied", "Request has expired.")
		return
	}
	s.mu.Lock()
	res := s.results[id]
	s.mu.Unlock()
	if !ok || res == nil {
		ossError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}

	var data []byte
	ctype := "image/png"
	switch res.mode {
	case imageRedirectLoop:
		http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		return
	case imageHuge:
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	case imageHTML:
		data, ctype = []byte(htmlPage), "text/html; charset=utf-8"
	case imageSVG:
		data, ctype = []byte(svgImage), "image/svg+xml"
	case imageMislabeled:
		data, ctype = gradientJPEG(res.width, res.height, res.seed), "text/html; charset=utf-8"
	case imageBig:
		s.bigOnce.Do(func() { s.big = noisePNG(1280, 1024) })
		data = s.big
	default:
		s.mu.Lock()
		if res.png == nil {
			res.png = gradientPNG(res.width, res.height, res.seed)
		}
		data = res.png
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if res.mode == imageDrop {
		// Half the promised bytes, then the connection is cut.
		w.Write(data[:len(data)/2])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}

// ScriptMarker is in the script of every non-image the result scenarios
// serve, so a test can tell that such bytes were never stored or served.
const ScriptMarker = "qwenfake-script-ran"

const (
	htmlPage = "<!doctype html><html><body><h1>Your image</h1><script>fetch('/api/me').then(r => r.text()).then(t => document.title = '" + ScriptMarker + "' + t)</script></body></html>\n"
	svgImage = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/><script>document.title = '` + ScriptMarker + `'</script></svg>` + "\n"
)

func ossError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>"+code+"</Code><Message>"+msg+"</Message></Error>\n")
}

// gradientPNG is a w×h PNG: a vertical gradient between two colours picked
// by seed. It is paletted with uniform rows, so it encodes and decodes fast
// (even under -race) and compresses to a few KB at 2048².
func gradientPNG(w, h int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed>>32|1))
	var top, bottom [3]uint8
	for i := range 3 {
		top[i], bottom[i] = uint8(rng.Uint32()), uint8(rng.Uint32())
	}
	pal := make(color.Palette, 256)
	for j := range pal {
		mix := func(i int) uint8 { return uint8((int(top[i])*(255-j) + int(bottom[i])*j) / 255) }
		pal[j] = color.RGBA{mix(0), mix(1), mix(2), 0xff}
	}
	img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for y := range h {
		row := img.Pix[y*img.Stride : y*img.Stride+w]
		row[0] = uint8(y * 255 / max(h-1, 1))
		for n := 1; n < w; n *= 2 {
			copy(row[n:], row[:n])
		}
	}
	return encodePNG(img, png.BestSpeed)
}

// noisePNG is an incompressible PNG of about 4·w·h bytes. Stored without
// compression, which also skips the filters: cheap even under -race.
func noisePNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rand.NewChaCha8([32]byte{'q', 'w', 'e', 'n'}).Read(img.Pix)
	return encodePNG(img, png.NoCompression)
}

// gradientJPEG is gradientPNG's picture as a JPEG.
func gradientJPEG(w, h int, seed uint64) []byte {
	img, err := png.Decode(bytes.NewReader(gradientPNG(w, h, seed)))
	if err != nil {
		panic(err) // our own encoder's output
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err) // only writer errors can occur, and a bytes.Buffer has none
	}
	return b.Bytes()
}

func encodePNG(img image.Image, level png.CompressionLevel) []byte {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: level}
	if err := enc.Encode(&b, img); err != nil {
		// Only writer errors can occur, and a bytes.Buffer has none.
		panic(err)
	}
	return b.Bytes()
}
