package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"

	"golang.org/x/image/draw"

	"adstudio/internal/objectstore"
)

// Thumbnails: galleries draw small previews, so beside each result the
// engine stores a small JPEG that the asset route serves on
// ?variant=thumbnail (docs/generation.md, "Thumbnails"). The asset route
// only serves stored bytes; everything that decodes or resizes is here, on
// the generate side.
const (
	// thumbnailSide is the longest side of a thumbnail. The history page
	// draws previews 490 px wide (144 high), so 512 is sharp there and on
	// the detail view's small screens.
	thumbnailSide = 512
	// thumbnailQuality is the JPEG quality: at 80 a 512 px preview has no
	// visible artefacts and is a fraction of the bytes of 90+.
	thumbnailQuality = 80
	// maxThumbnailPixels is the largest image a thumbnail is made of:
	// 4096×4096, four times the largest the provider makes (2048×2048).
	// Decoding takes up to 4 bytes a pixel (16-bit images, 8, count
	// double) and the scaler 32 bytes of scratch per destination column
	// per source row: at most 64 MB + 64 MB here, a quarter of the
	// generate function's 512 MB, which also holds the download (at most
	// 32 MB). Above it, or for a header that only claims such a size (a
	// decompression bomb), no thumbnail is made and galleries get the
	// full image.
	maxThumbnailPixels = 4096 * 4096
)

// errThumbnailTooLarge: the image's header claims more pixels than a
// thumbnail may be made of; nothing was decoded.
var errThumbnailTooLarge = errors.New("image too large for a thumbnail")

// thumbnailSize is the size of w×h's thumbnail: the longest side brought
// down to thumbnailSide, the aspect ratio kept (rounded, at least 1 px). A
// smaller image keeps its size: enlarging adds bytes and no detail.
func thumbnailSize(w, h int) (int, int) {
	switch {
	case w <= thumbnailSide && h <= thumbnailSide:
		return w, h
	case w >= h:
		return thumbnailSide, max(1, (h*thumbnailSide+w/2)/w)
	default:
		return max(1, (w*thumbnailSide+h/2)/h), thumbnailSide
	}
}

// checkThumbnailSize refuses, from the header alone, an image that would
// take too much memory or CPU to decode and scale.
func checkThumbnailSize(cfg image.Config) error {
	pixels := int64(cfg.Width) * int64(cfg.Height)
	if cfg.ColorModel == color.RGBA64Model || cfg.ColorModel == color.NRGBA64Model {
		pixels *= 2 // 8 bytes a pixel once decoded
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || pixels > maxThumbnailPixels {
		return fmt.Errorf("%w: %d×%d %T", errThumbnailTooLarge, cfg.Width, cfg.Height, cfg.ColorModel)
	}
	return nil
}

// makeThumbnail is data's thumbnail as a JPEG. data is of format f (as
// sniffImage found). The header is checked before anything is decoded.
//
// The scaler is Catmull-Rom: at the usual 1328→512 a kernel filter
// averages every source pixel under each output pixel, where
// ApproxBiLinear samples only the nearest 2×2 and so skips most of them,
// which shows as jagged edges and moiré on text and fine textures. It costs
// more CPU (BenchmarkThumbnail: about 70 ms against 30 ms for a 1328² RGB
// PNG on one core of the development VM, decoding and encoding included),
// once per generation, beside a provider call of 10–40 s.
//
// JPEG, because every browser shows it in an <img> and it is compact for
// photographs, which is what results are. It has no alpha: a transparent
// result is flattened onto white, as the SPA's white cards would show it.
func makeThumbnail(data []byte, f imageFormat) ([]byte, error) {
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read %s header: %w", f.ext, err)
	}
	if err := checkThumbnailSize(cfg); err != nil {
		return nil, err
	}
	src, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", f.ext, err)
	}
	// The decoded bounds, not the header's: a GIF's first frame may be
	// smaller than its screen.
	sb := src.Bounds()
	w, h := thumbnailSize(sb.Dx(), sb.Dy())
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, sb, draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: thumbnailQuality}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return out.Bytes(), nil
}

// storeThumbnail makes and stores the thumbnail of a result just stored.
// It never fails the generation: a gallery without a thumbnail shows the
// full image (the asset route falls back to it), so a failure is logged
// with its cause and the generation goes on. A thumbnail left by an earlier
// attempt at the same generation (an abandoned job whose continuation now
// stored another image) is removed, so it cannot show a different picture.
func (rn *Runner) storeThumbnail(ctx context.Context, j Job, f imageFormat, data []byte) {
	key := objectstore.ThumbnailKey(j.Generation.UserID, j.Generation.ID)
	err := rn.fault("thumbnail")
	var thumb []byte
	if err == nil {
		thumb, err = makeThumbnail(data, f)
	}
	if err == nil {
		if err = rn.Storage.Put(ctx, key, "image/jpeg", thumb); err != nil {
			err = fmt.Errorf("store thumbnail: %w", err)
		}
	}
	if err == nil {
		return
	}
	if errors.Is(context.Cause(ctx), errHandedOff) {
		// The continuation makes its own; nothing went wrong here.
		return
	}
	rn.logger().WarnContext(ctx, "thumbnail not stored; galleries show the full image",
		"generationId", j.Generation.ID, "requestId", j.RequestID, "format", f.ext, "err", err)
	rn.deleteObject(key)
}
