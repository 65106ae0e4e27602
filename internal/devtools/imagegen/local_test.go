package imagegen_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/devtools/imagegen"
	"adstudio/internal/qwen"
)

func decode(t *testing.T, dataURL string) image.Image {
	t.Helper()
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.40s", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestGenerateSizes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		size string
		w, h int
	}{
		{"", 1328, 1328},
		{"1664*928", 1664, 928},
		{"512*640", 512, 640},
		{"0640*512", 640, 512},
		{"9000*9000", 1328, 1328},
	} {
		res, err := imagegen.Local{}.Generate(context.Background(), qwen.Request{Prompt: "a ceramic mug on a wooden table", Size: tt.size})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Images) != 1 || res.Model != "local-preview" {
			t.Fatalf("%q: %d images, model %q", tt.size, len(res.Images), res.Model)
		}
		if _, err := uuid.Parse(res.RequestID); err != nil {
			t.Errorf("request id %q: %v", res.RequestID, err)
		}
		if b := decode(t, res.Images[0]).Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("%q: image %v, want %d×%d", tt.size, b, tt.w, tt.h)
		}
		u := res.Usage
		if u == nil || *u.ImageCount != 1 || *u.Width != float64(tt.w) || *u.Height != float64(tt.h) {
			t.Errorf("%q: usage %+v", tt.size, u)
		}
	}
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	g := imagegen.Local{}
	r := qwen.Request{Prompt: "Minimal product photo of a ceramic mug", Size: "768*768"}
	a, _ := g.Generate(context.Background(), r)
	b, _ := g.Generate(context.Background(), r)
	if a.Images[0] != b.Images[0] {
		t.Error("same prompt, different images")
	}
	if a.RequestID == b.RequestID {
		t.Error("request ids repeat")
	}
	r.Prompt += "!"
	c, _ := g.Generate(context.Background(), r)
	if c.Images[0] == a.Images[0] {
		t.Error("different prompts, same image")
	}
}

func TestGenerateEdit(t *testing.T) {
	t.Parallel()
	ref := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := 0; i < len(ref.Pix); i += 4 {
		copy(ref.Pix[i:], []byte{0xff, 0, 0, 0xff})
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, ref, nil)
	dataURL := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jb.Bytes())

	res, err := imagegen.Local{}.Generate(context.Background(), qwen.Request{
		Edit: true, Prompt: "put it on marble", ReferenceImage: dataURL, N: 3, Size: "1024*1024",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 3 || *res.Usage.ImageCount != 3 {
		t.Fatalf("%d images, usage %+v", len(res.Images), res.Usage)
	}
	if res.Images[0] == res.Images[1] || res.Images[1] == res.Images[2] {
		t.Error("the n images are identical")
	}
	// The thumbnail sits in the bottom-right quarter: red there.
	img := decode(t, res.Images[0])
	if !isRed(img.At(1024-64-50, 1024-64-30)) {
		t.Errorf("no reference thumbnail: pixel is %v", img.At(1024-64-50, 1024-64-30))
	}

	// A URL (or broken) reference has no thumbnail but still renders.
	for _, ref := range []string{"https://example.com/a.png", "data:image/png;base64,AAAA", "data:image/png;base64,!!"} {
		res, err := imagegen.Local{}.Generate(context.Background(), qwen.Request{Edit: true, Prompt: "p", ReferenceImage: ref, Size: "512*512"})
		if err != nil || len(res.Images) != 1 {
			t.Fatalf("%s: %v", ref, err)
		}
		if isRed(decode(t, res.Images[0]).At(512-32-20, 512-32-10)) {
			t.Errorf("%s: unexpected thumbnail", ref)
		}
	}
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0xd000 && g < 0x3000 && b < 0x3000
}

// The largest picture, with a prompt longer than fits, stays under 1 MB.
func TestGenerateLarge(t *testing.T) {
	t.Parallel()
	prompt := strings.Repeat("Ünïcödé 商品 and a very-long-word-without-any-spaces-at-all-that-must-be-cut ", 40)
	res, err := imagegen.Local{}.Generate(context.Background(), qwen.Request{Prompt: prompt, Size: "2048*2048"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Images[0]) * 3 / 4; n > 1<<20 {
		t.Errorf("PNG is %d bytes", n)
	}
	decode(t, res.Images[0])
}

func TestGenerateCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (imagegen.Local{}).Generate(ctx, qwen.Request{Prompt: "p"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// A Delay gives way to the context: a canceled or expired ctx ends the wait
// with its error. Were the wait deaf to ctx, these would hang for an hour
// and the test binary's timeout would fail them.
func TestGenerateDelayCancelled(t *testing.T) {
	t.Parallel()
	slow := imagegen.Local{Delay: time.Hour}
	r := qwen.Request{Prompt: "p", Size: "64*64"}

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := slow.Generate(canceled, r); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled before: err = %v", err)
	}

	expired, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := slow.Generate(expired, r); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v", err)
	}

	during, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := slow.Generate(during, r)
		errc <- err
	}()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled while waiting: err = %v", err)
	}
}

// How long Generate waits, on synctest's fake clock (which moves only when
// every goroutine of the bubble is blocked, so drawing takes no time on
// it): exactly Delay, none at all for the zero value, and only until a
// cancel that comes first.
func TestGenerateDelay(t *testing.T) {
	t.Parallel()
	r := qwen.Request{Prompt: "p", Size: "64*64"}
	synctest.Test(t, func(t *testing.T) {
		for _, d := range []time.Duration{0, 4 * time.Second} {
			start := time.Now()
			res, err := imagegen.Local{Delay: d}.Generate(context.Background(), r)
			if err != nil {
				t.Fatalf("delay %v: %v", d, err)
			}
			if got := time.Since(start); got != d {
				t.Errorf("delay %v: waited %v", d, got)
			}
			decode(t, res.Images[0])
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Second, cancel)
		start := time.Now()
		if _, err := (imagegen.Local{Delay: time.Hour}).Generate(ctx, r); !errors.Is(err, context.Canceled) {
			t.Errorf("canceled after 1s: err = %v", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("canceled after 1s: waited %v", got)
		}
	})
}

func BenchmarkGenerate1328(b *testing.B) {
	r := qwen.Request{Prompt: "Minimal product photo of a ceramic mug on a wooden table, soft daylight, 35mm"}
	for b.Loop() {
		if _, err := (imagegen.Local{}).Generate(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}
