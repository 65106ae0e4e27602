package imagegen

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	_ "image/gif" // reference types the SPA accepts
	_ "image/jpeg"
	_ "image/png"
	"math"
	"regexp"
	"strings"

	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// scene is everything one picture depends on.
type scene struct {
	width, height int
	seed          uint64
	variant       int // index among n images: shifts the hues
	prompt        string
	label         string
	thumb         image.Image // reference thumbnail, or nil
}

// The face is 7×13 pixels per character; text is scaled up by whole pixels
// so it stays crisp and costs nothing to rasterise.
var face = basicfont.Face7x13

const (
	glyphW = 7
	lineH  = 15 // 13 px glyphs plus 2 px leading
)

func render(s scene) *image.RGBA {
	w, h := s.width, s.height
	img := image.NewRGBA(image.Rect(0, 0, w, h))

	hue := float64(s.seed&0xffff)/0x10000 + float64(s.variant)*0.13
	top := hsv(hue, 0.55, 0.90)
	bottom := hsv(hue+0.22+float64(s.seed>>16&0xff)/2048, 0.65, 0.40)
	for y := range h {
		t := float64(y) / float64(max(h-1, 1))
		row := img.Pix[y*img.Stride : y*img.Stride+4*w]
		row[0], row[1], row[2], row[3] = lerp(top.R, bottom.R, t), lerp(top.G, bottom.G, t), lerp(top.B, bottom.B, t), 0xff
		// Doubling copies: a row is one colour, filled in log(w) calls.
		for n := 4; n < len(row); n *= 2 {
			copy(row[n:], row[:n])
		}
	}

	// A few translucent blocks placed by the hash, so prompts differ in
	// shape as well as colour.
	r := s.seed ^ uint64(s.variant)*0x9e3779b97f4a7c15
	for i := range 3 {
		r = r*6364136223846793005 + 1442695040888963407
		x0, y0 := int(r>>8%uint64(w)), int(r>>24%uint64(h))
		bw, bh := w/5+int(r>>40%uint64(w/3+1)), h/6+int(r>>50%uint64(h/4+1))
		shade := color.RGBA{0xff, 0xff, 0xff, 0xff}
		if i == 1 {
			shade = color.RGBA{0, 0, 0, 0xff}
		}
		blend(img, image.Rect(x0, y0, x0+bw, y0+bh), shade, 0.12)
	}

	scale := max(1, int(math.Round(float64(min(w, h))/300)))
	margin := max(8, min(w, h)/16)
	pad := 2 * scale * 3

	small := max(1, scale/2)
	drawText(img, margin, margin, []string{s.label}, small, color.RGBA{0xff, 0xff, 0xff, 0xff})

	// The prompt on a darkened panel so it reads on any gradient.
	panelW := w - 2*margin
	cols := max(1, (panelW-2*pad)/(glyphW*scale))
	panelTop := margin + lineH*small + margin/2
	maxLines := max(1, (h*6/10-2*pad)/(lineH*scale))
	lines := wrap(s.prompt, cols, maxLines)
	panel := image.Rect(margin, panelTop, margin+panelW, panelTop+len(lines)*lineH*scale+2*pad)
	blend(img, panel, color.RGBA{0, 0, 0, 0xff}, 0.45)
	drawText(img, panel.Min.X+pad, panel.Min.Y+pad, lines, scale, color.RGBA{0xff, 0xff, 0xff, 0xff})

	if s.thumb != nil {
		drawThumb(img, s.thumb, margin, scale)
	}
	return img
}

// drawThumb fits the reference into a quarter of each side, bottom right,
// with a white frame.
func drawThumb(img *image.RGBA, src image.Image, margin, border int) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	sb := src.Bounds()
	if sb.Empty() {
		return
	}
	f := math.Min(float64(w/4)/float64(sb.Dx()), float64(h/4)/float64(sb.Dy()))
	tw, th := max(1, int(float64(sb.Dx())*f)), max(1, int(float64(sb.Dy())*f))
	dst := image.Rect(w-margin-tw, h-margin-th, w-margin, h-margin)
	draw.Draw(img, dst.Inset(-border), image.White, image.Point{}, draw.Src)
	draw.ApproxBiLinear.Scale(img, dst, src, sb, draw.Over, nil)
}

// wrap breaks text into lines of at most cols characters at spaces (long
// words are cut), keeping at most maxLines and marking a cut with "...".
// Characters the face lacks become '?'.
func wrap(text string, cols, maxLines int) []string {
	var words []string
	for _, f := range strings.Fields(text) {
		f = strings.Map(func(r rune) rune {
			if _, ok := face.GlyphAdvance(r); !ok {
				return '?'
			}
			return r
		}, f)
		for rs := []rune(f); len(rs) > 0; {
			n := min(len(rs), cols)
			words = append(words, string(rs[:n]))
			rs = rs[n:]
		}
	}
	var lines []string
	cur := ""
	for _, word := range words {
		switch {
		case cur == "":
			cur = word
		case len([]rune(cur))+1+len([]rune(word)) <= cols:
			cur += " " + word
		default:
			lines = append(lines, cur)
			cur = word
		}
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		last := []rune(lines[maxLines-1])
		if len(last) > cols-3 {
			last = last[:max(0, cols-3)]
		}
		lines[maxLines-1] = string(last) + "..."
	}
	return lines
}

// drawText rasterises lines at 1:1 into a small mask, then paints each set
// mask pixel as a scale×scale block.
func drawText(img *image.RGBA, x, y int, lines []string, scale int, c color.RGBA) {
	longest := 0
	for _, l := range lines {
		longest = max(longest, len([]rune(l)))
	}
	if longest == 0 {
		return
	}
	mask := image.NewAlpha(image.Rect(0, 0, longest*glyphW, len(lines)*lineH))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face}
	for i, l := range lines {
		d.Dot = fixed.P(0, i*lineH+face.Ascent)
		d.DrawString(l)
	}
	b := img.Rect
	for my := range mask.Rect.Dy() {
		for mx := range mask.Rect.Dx() {
			a := mask.Pix[my*mask.Stride+mx]
			if a == 0 {
				continue
			}
			blend(img, image.Rect(x+mx*scale, y+my*scale, x+(mx+1)*scale, y+(my+1)*scale).Intersect(b), c, float64(a)/0xff)
		}
	}
}

// blend mixes c over the pixels of r with opacity alpha.
func blend(img *image.RGBA, r image.Rectangle, c color.RGBA, alpha float64) {
	r = r.Intersect(img.Rect)
	k := uint32(alpha * 256)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			row[i] = uint8((uint32(row[i])*(256-k) + uint32(c.R)*k) >> 8)
			row[i+1] = uint8((uint32(row[i+1])*(256-k) + uint32(c.G)*k) >> 8)
			row[i+2] = uint8((uint32(row[i+2])*(256-k) + uint32(c.B)*k) >> 8)
		}
	}
}

func lerp(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a)*(1-t) + float64(b)*t))
}

// hsv converts a hue in turns (any real; wraps), saturation and value in
// [0,1] to an opaque colour.
func hsv(hue, s, v float64) color.RGBA {
	hue -= math.Floor(hue)
	i := int(hue * 6)
	f := hue*6 - float64(i)
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	var r, g, b float64
	switch i % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return color.RGBA{uint8(r * 255), uint8(g * 255), uint8(b * 255), 0xff}
}

var dataURLRE = regexp.MustCompile(`(?is)^data:image/[a-z0-9.+-]+;base64,(.+)$`)

// maxReferencePixels keeps a hostile reference (a tiny file claiming huge
// dimensions) from costing gigabytes to decode.
const maxReferencePixels = 40_000_000

// decodeReference decodes a base64 data URL reference, or returns nil.
func decodeReference(ref string) image.Image {
	m := dataURLRE.FindStringSubmatch(strings.TrimSpace(ref))
	if m == nil {
		return nil
	}
	b64 := strings.Join(strings.Fields(m[1]), "")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// Some encoders drop the padding.
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "=")); err != nil {
			return nil
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxReferencePixels {
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	return img
}
