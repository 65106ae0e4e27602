// Package qwen talks to Alibaba Cloud Model Studio (DashScope), the image
// provider behind the generation workflows. It sends exactly the request the
// reference backend sends and turns every upstream failure into the error the
// client must see (docs/dashscope.md), so the handlers only
// pass the result or the *Error on.
package qwen

import "context"

// Generator produces images for one workflow request. The DashScope Client
// implements it, and so does the offline generator used by `make dev`
// without an API key (internal/devtools/imagegen); the workflow handlers depend on this
// interface so they cannot tell the two apart.
type Generator interface {
	Generate(ctx context.Context, r Request) (Result, error)
}

// Request is one generation, already normalised and validated by the
// workflow parser: the client forwards every field as given and remaps
// nothing (the legacy size remap happens before it gets here).
type Request struct {
	// Edit selects the image-edit operation (route image-from-reference)
	// and the edit model; otherwise text-to-image.
	Edit bool
	// Prompt is the trimmed prompt, sent as the single text part.
	Prompt string
	// ReferenceImage is the edit reference: an http(s) URL or a base64 data
	// URL, forwarded unchanged. Ignored for text-to-image.
	ReferenceImage string
	// N is the number of images for an edit (1–6; 0 means 1). Text-to-image
	// always sends 1, as the reference backend does.
	N int
	// Size is "W*H"; empty omits the key and the provider picks its default.
	Size string
	// NegativePrompt is sent when non-empty.
	NegativePrompt string
	// Seed is sent when non-nil, including 0.
	Seed         *int64
	PromptExtend bool
	Watermark    bool
}

// Usage is the provider's usage object, renamed for the client. A field is
// nil when the provider did not send it as a number.
type Usage struct {
	ImageCount *float64 `json:"imageCount,omitempty"`
	Width      *float64 `json:"width,omitempty"`
	Height     *float64 `json:"height,omitempty"`
}

// Result is a successful generation.
type Result struct {
	// Images are the result image URLs in provider order. The provider's are
	// temporary signed URLs (≈ 24 h); the local generator's are data: URLs.
	Images []string
	// RequestID is the provider's request id; empty when it sent none.
	RequestID string
	// Model is the model id the request was sent to.
	Model string
	// Usage is nil unless the provider's usage object had at least one
	// numeric field among image_count, width and height.
	Usage *Usage
}
