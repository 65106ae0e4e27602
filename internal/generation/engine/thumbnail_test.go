package engine

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflow"
	"adstudio/internal/objectstore"
	"adstudio/internal/qwen"
)

// picture is a w×h opaque image with content in every pixel (a gradient
// with a pattern), so scaling and encoding do real work.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x*255/w), uint8(y*255/h), uint8((x^y)&0x3f)*4, 0xff
		}
	}
	return img
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngChunk is one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// bombPNG is a real decompression bomb: a valid 8000×8000 grey PNG (64
// megapixels, 64 MB once decoded) that is a few tens of KB, every pixel 0.
func bombPNG(t testing.TB) []byte {
	t.Helper()
	const side = 8000
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], side)
	binary.BigEndian.PutUint32(ihdr[4:], side)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit greyscale
	var idat bytes.Buffer
	z, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
	row := make([]byte, 1+side) // filter byte, then the row
	for range side {
		z.Write(row)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", idat.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

func formatOf(t testing.TB, data []byte) imageFormat {
	t.Helper()
	f, ok := sniffImage(data)
	if !ok {
		t.Fatalf("not an image: %.16q", data)
	}
	return f
}

// jpegSize decodes a thumbnail, which must be a JPEG, and returns it.
func decodeJPEG(t *testing.T, data []byte) image.Image {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\xff\xd8\xff")) {
		t.Fatalf("thumbnail is not a JPEG: %.16q", data)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestThumbnailSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ w, h, tw, th int }{
		{1328, 1328, 512, 512},
		{1664, 928, 512, 286}, // the provider's default, landscape
		{928, 1664, 286, 512}, // portrait
		{2048, 1024, 512, 256},
		{1472, 1104, 512, 384},
		{513, 100, 512, 100}, // 99.8 rounds up
		{300, 200, 300, 200}, // smaller: kept, never enlarged
		{512, 512, 512, 512},
		{512, 40, 512, 40},
		{1, 1, 1, 1},
		{20000, 3, 512, 1}, // a sliver keeps a pixel
		{3, 20000, 1, 512},
	} {
		if w, h := thumbnailSize(tc.w, tc.h); w != tc.tw || h != tc.th {
			t.Errorf("%d×%d → %d×%d, want %d×%d", tc.w, tc.h, w, h, tc.tw, tc.th)
		}
	}
}

// TestMakeThumbnail: every format a result may be becomes a JPEG whose
// longest side is 512 (or the image's own size when smaller), with the
// aspect ratio kept.
func TestMakeThumbnail(t *testing.T) {
	t.Parallel()
	var jpg, gf bytes.Buffer
	if err := jpeg.Encode(&jpg, picture(900, 1600), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gf, picture(200, 120), nil); err != nil {
		t.Fatal(err)
	}
	// A 1×1 lossless WebP.
	webpBytes, _ := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	for _, tc := range []struct {
		name string
		data []byte
		w, h int
	}{
		{"png landscape", encodePNG(t, picture(1328, 996)), 512, 384},
		{"png square", encodePNG(t, picture(1328, 1328)), 512, 512},
		{"jpeg portrait", jpg.Bytes(), 288, 512},
		{"gif smaller, not enlarged", gf.Bytes(), 200, 120},
		{"webp smaller, not enlarged", webpBytes, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			thumb, err := makeThumbnail(tc.data, formatOf(t, tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if b := decodeJPEG(t, thumb).Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Errorf("thumbnail %d×%d, want %d×%d", b.Dx(), b.Dy(), tc.w, tc.h)
			}
		})
	}
}

// TestThumbnailLooksLikeTheImage: the scaled picture keeps its colours
// where they are, and transparency becomes white (JPEG has no alpha).
func TestThumbnailLooksLikeTheImage(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 1200, 600))
	draw.Draw(img, image.Rect(0, 0, 600, 600), image.NewUniform(color.NRGBA{200, 30, 30, 255}), image.Point{}, draw.Src)
	// The right half is transparent (its colour must not show).
	draw.Draw(img, image.Rect(600, 0, 1200, 600), image.NewUniform(color.NRGBA{0, 0, 255, 0}), image.Point{}, draw.Src)
	data := encodePNG(t, img)
	thumb, err := makeThumbnail(data, formatOf(t, data))
	if err != nil {
		t.Fatal(err)
	}
	m := decodeJPEG(t, thumb)
	near := func(c color.Color, r, g, b uint8) bool {
		cr, cg, cb, _ := c.RGBA()
		d := func(x uint32, y uint8) bool { return int(x>>8)-int(y) <= 12 && int(y)-int(x>>8) <= 12 }
		return d(cr, r) && d(cg, g) && d(cb, b)
	}
	if c := m.At(128, 128); !near(c, 200, 30, 30) {
		t.Errorf("left half %v, want the red", c)
	}
	if c := m.At(384, 128); !near(c, 255, 255, 255) {
		t.Errorf("transparent half %v, want white", c)
	}
}

// TestThumbnailRefusesBombs: an image whose header claims too many pixels
// is refused before anything is decoded, whatever its size on the wire.
func TestThumbnailRefusesBombs(t *testing.T) {
	t.Parallel()
	bomb := bombPNG(t)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes: not much of a bomb", len(bomb))
	}
	if _, err := makeThumbnail(bomb, formatOf(t, bomb)); !errors.Is(err, errThumbnailTooLarge) {
		t.Fatalf("bomb: %v, want errThumbnailTooLarge", err)
	}
	for _, tc := range []struct {
		cfg image.Config
		ok  bool
	}{
		{image.Config{ColorModel: color.RGBAModel, Width: 2048, Height: 2048}, true},
		{image.Config{ColorModel: color.RGBAModel, Width: 4096, Height: 4096}, true},
		{image.Config{ColorModel: color.RGBAModel, Width: 4097, Height: 4096}, false},
		{image.Config{ColorModel: color.GrayModel, Width: 1 << 16, Height: 1 << 16}, false},
		{image.Config{ColorModel: color.YCbCrModel, Width: 16384, Height: 1025}, false},
		// 16-bit pixels take 8 bytes: they count double.
		{image.Config{ColorModel: color.NRGBA64Model, Width: 2896, Height: 2896}, true},
		{image.Config{ColorModel: color.RGBA64Model, Width: 4096, Height: 4096}, false},
		{image.Config{ColorModel: color.RGBAModel, Width: 0, Height: 10}, false},
	} {
		if err := checkThumbnailSize(tc.cfg); (err == nil) != tc.ok {
			t.Errorf("%d×%d %T: %v", tc.cfg.Width, tc.cfg.Height, tc.cfg.ColorModel, err)
		}
	}
}

// putFailing is a store whose Put fails for the keys it names.
type putFailing struct {
	objectstore.Store
	keys map[string]bool
}

func (s putFailing) Put(ctx context.Context, key, ctype string, body []byte) error {
	if s.keys[key] {
		return errors.New("bucket refused " + key)
	}
	return s.Store.Put(ctx, key, ctype, body)
}

// TestRunnerStoresThumbnail: a generation stores its result and the
// thumbnail beside it; a thumbnail that cannot be made or stored never
// fails the generation, is logged with its cause, and leaves no thumbnail
// (not even one an earlier attempt stored), so galleries fall back to the
// full image.
func TestRunnerStoresThumbnail(t *testing.T) {
	t.Parallel()
	db, err := database.Open("file:"+filepath.Join(t.TempDir(), "gen.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Migrate(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	gens := &gendb.Store{DB: db}
	local, err := objectstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good := encodePNG(t, picture(1328, 1000))
	// A PNG whose header is fine (so it is stored as the result) but whose
	// pixel data is cut short.
	truncated := good[:len(good)/2]

	for i, tc := range []struct {
		name     string
		result   []byte
		storage  func(userID, id string) objectstore.Store
		inject   string
		thumb    bool   // a thumbnail is stored
		logCause string // the logged err, when none is
	}{
		{name: "stored", result: good, thumb: true},
		{name: "bomb skipped", result: bombPNG(t), logCause: "image too large for a thumbnail: 8000×8000"},
		{name: "undecodable", result: truncated, logCause: "decode png:"},
		{name: "fault", result: good, inject: "thumbnail", logCause: "injected at thumbnail"},
		{
			name: "bucket refuses the thumbnail", result: good, logCause: "store thumbnail: bucket refused",
			storage: func(userID, id string) objectstore.Store {
				return putFailing{local, map[string]bool{objectstore.ThumbnailKey(userID, id): true}}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			userID := "u" + string(rune('a'+i))
			if err := db.Exec(ctx, `INSERT INTO "users" ("id", "email", "name") VALUES (?, ?, 'U')`, userID, userID+"@example.com"); err != nil {
				t.Fatal(err)
			}
			rec := gendb.Record{ID: "g-" + userID, UserID: userID, Workflow: workflow.TextToImage, InputJSON: "{}"}
			credits, err := gens.Create(ctx, rec, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			thumbKey := objectstore.ThumbnailKey(userID, rec.ID)
			// What an abandoned earlier attempt at this generation left.
			if err := local.Put(ctx, thumbKey, "image/jpeg", []byte("an older picture")); err != nil {
				t.Fatal(err)
			}
			var store objectstore.Store = local
			if tc.storage != nil {
				store = tc.storage(userID, rec.ID)
			}
			var logs bytes.Buffer
			rn := &Runner{Generations: gens, Storage: store, Now: time.Now, CopyAttempts: 1, JobTimeout: time.Minute,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
				Inject: func(step string) error {
					if step == tc.inject {
						return errors.New("injected at " + step)
					}
					return nil
				}}
			gen := generatorFunc(func() (qwen.Result, error) {
				return qwen.Result{Images: []string{"data:image/png;base64," + base64.StdEncoding.EncodeToString(tc.result)}}, nil
			})
			res := rn.run(ctx, Job{RequestID: "req-" + userID, Generation: rec, Params: workflow.Params{Prompt: "p", N: 1}, Credits: credits, Generator: gen})

			row, err := gens.GetAny(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != 200 || row.Status != gendb.Succeeded || row.R2Key != objectstore.ResultKey(userID, rec.ID, "png") {
				t.Fatalf("answer %d %s; row %s %q", res.Status, res.Body, row.Status, row.R2Key)
			}
			if obj, err := local.Get(ctx, row.R2Key, ""); err != nil {
				t.Fatalf("result: %v", err)
			} else {
				b, _ := io.ReadAll(obj.Body)
				obj.Body.Close()
				if !bytes.Equal(b, tc.result) {
					t.Errorf("the stored result is not the provider's bytes")
				}
			}
			obj, err := local.Get(ctx, thumbKey, "")
			if !tc.thumb {
				if err == nil {
					obj.Body.Close()
					t.Errorf("a thumbnail is stored")
				} else if !errors.Is(err, objectstore.ErrNotFound) {
					t.Error(err)
				}
				var l map[string]any
				lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
				if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &l) != nil {
					t.Fatalf("want one log line: %s", logs.String())
				}
				cause, _ := l["err"].(string)
				if l["level"] != "WARN" || l["generationId"] != rec.ID || l["requestId"] != "req-"+userID || !strings.Contains(cause, tc.logCause) {
					t.Errorf("log line %s, want cause %q", lines[0], tc.logCause)
				}
				return
			}
			if err != nil {
				t.Fatalf("thumbnail: %v", err)
			}
			defer obj.Body.Close()
			b, _ := io.ReadAll(obj.Body)
			if obj.ContentType != "image/jpeg" || obj.ETag == "" {
				t.Errorf("thumbnail stored as %q, ETag %q", obj.ContentType, obj.ETag)
			}
			if m := decodeJPEG(t, b).Bounds(); m.Dx() != 512 || m.Dy() != 386 {
				t.Errorf("thumbnail %v", m)
			}
			if logs.Len() != 0 {
				t.Errorf("logged: %s", logs.String())
			}
		})
	}
}

// BenchmarkThumbnail makes the thumbnail of a 1328² RGB PNG, the provider's
// usual result: decoding, scaling and encoding. approx-bilinear is the
// same with the cheaper scaler, for the comparison in makeThumbnail's
// comment.
func BenchmarkThumbnail(b *testing.B) {
	data := encodePNG(b, picture(1328, 1328))
	f := formatOf(b, data)
	b.Run("catmull-rom", func(b *testing.B) {
		for b.Loop() {
			if _, err := makeThumbnail(data, f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("approx-bilinear", func(b *testing.B) {
		for b.Loop() {
			src, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			dst := image.NewRGBA(image.Rect(0, 0, 512, 512))
			draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
			draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
			jpeg.Encode(io.Discard, dst, &jpeg.Options{Quality: thumbnailQuality})
		}
	})
}
