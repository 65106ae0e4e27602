// Package imagegen is the built-in image generator for `make dev` without a
// DashScope key: it draws a real PNG from the prompt (a gradient picked by
// the prompt's hash, the prompt text, and for edits a thumbnail of the
// reference) so the whole workflow — credit, history, storage copy, the
// SPA's preview — works offline and costs nothing.
package imagegen

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"image"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/qwen"
)

// Model is the model name reported for local images, so history rows show
// where an image came from.
const Model = "local-preview"

// DefaultSide is the width and height used when a request has no size.
const DefaultSide = 1328

// Limits on a requested side; outside them the default size is used. The
// workflows never ask for more than 2048.
const (
	minSide = 64
	maxSide = 2048
)

// Local is the offline generator. The zero value is ready to use and
// answers at once; it holds no state, so it is safe for concurrent use.
type Local struct {
	// Delay is how long each Generate waits before drawing, so that make
	// dev can act out a slow provider: a run past WORKFLOW_SYNC_BUDGET_MS
	// answers 202 and the SPA has to poll its statusUrl. A canceled ctx
	// ends the wait, as it would end the provider's request.
	Delay time.Duration
}

var _ qwen.Generator = Local{}

var sizeRE = regexp.MustCompile(`^([0-9]{1,5})\*([0-9]{1,5})$`)

// Generate renders the images of r as data:image/png;base64 URLs: one for
// text-to-image, r.N (at least one) for an edit, as the provider would. The
// pictures depend only on the request, never on time or randomness; only
// RequestID is random.
func (l Local) Generate(ctx context.Context, r qwen.Request) (qwen.Result, error) {
	if err := wait(ctx, l.Delay); err != nil {
		return qwen.Result{}, err
	}
	w, h := size(r.Size)
	n := 1
	if r.Edit && r.N > 1 {
		n = r.N
	}
	var thumb image.Image
	if r.Edit {
		// Best effort: a URL reference or an undecodable one just has no
		// thumbnail, the provider would have fetched it.
		thumb = decodeReference(r.ReferenceImage)
	}
	seed := promptHash(r)
	res := qwen.Result{Images: make([]string, n), RequestID: uuid.NewString(), Model: Model}
	for i := range n {
		if err := ctx.Err(); err != nil {
			return qwen.Result{}, err
		}
		img := render(scene{
			width: w, height: h, seed: seed, variant: i, prompt: r.Prompt, thumb: thumb,
			label: label(w, h, i, n),
		})
		res.Images[i] = "data:image/png;base64," + base64.StdEncoding.EncodeToString(encodePNG(img))
	}
	count, fw, fh := float64(n), float64(w), float64(h)
	res.Usage = &qwen.Usage{ImageCount: &count, Width: &fw, Height: &fh}
	return res, nil
}

// wait blocks for d, or until ctx is done, whichever comes first. A d of
// zero or less returns at once.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// size parses "W*H"; anything else (including no size) is the default.
func size(s string) (int, int) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return DefaultSide, DefaultSide
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	if w < minSide || h < minSide || w > maxSide || h > maxSide {
		return DefaultSide, DefaultSide
	}
	return w, h
}

// promptHash picks the colours: the same prompt (and seed) gives the same
// picture, a different one visibly different colours.
func promptHash(r qwen.Request) uint64 {
	f := fnv.New64a()
	f.Write([]byte(r.Prompt))
	if r.Seed != nil {
		f.Write([]byte{0})
		f.Write(strconv.AppendInt(nil, *r.Seed, 10))
	}
	return f.Sum64()
}

func label(w, h, i, n int) string {
	s := fmt.Sprintf("LOCAL PREVIEW  %d x %d", w, h)
	if n > 1 {
		s += fmt.Sprintf("  (%d/%d)", i+1, n)
	}
	return s
}
