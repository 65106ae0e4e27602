// Package workflow validates and normalises the bodies of the image workflow
// routes (docs/app-api.md §8, §9) and the video route (§10), reproducing the old
// TypeScript backend's zod 4 messages byte for byte, and renders the stored
// input_json document (docs/app-api.md §14.2).
package workflow

import (
	"encoding/json"
	"unicode/utf8"

	"adstudio/internal/jscompat"
)

// Workflow names, as they appear in routes, the generation table and ledger.
const (
	TextToImage        = "image-from-text"
	ImageFromReference = "image-from-reference"
	VideoFromReference = "video-from-reference"
)

// Params is the normalised request (docs/app-api.md §8.2): exactly what is sent to the
// provider and stored in input_json.parameters.
type Params struct {
	Prompt         string
	ReferenceImage string // reference route only
	N              int
	Size           string // "" when absent
	NegativePrompt string // "" when absent
	Seed           *int64
	PromptExtend   bool
	Watermark      bool
}

// ValidationError carries the exact message of a 400 INVALID_REQUEST.
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return e.Message }

// PlainError carries the message of the video stub's plain-string 400
// (`{"error": "…"}`, docs/app-api.md §1.1).
type PlainError struct{ Message string }

func (e *PlainError) Error() string { return e.Message }

// Messages of docs/app-api.md §12.
const (
	msgInvalidJSON      = "Invalid JSON payload."
	msgPromptRequired   = "prompt is required."
	msgTextN            = "parameters.n must be 1 for image-from-text."
	msgTextSize         = "parameters.size must be one of: 1664*928, 1472*1104, 1328*1328, 1104*1472, 928*1664."
	msgRefRequired      = "referenceImageUrl is required."
	msgRefExactlyOne    = "Exactly one reference image is supported."
	msgRefInvalid       = "referenceImageUrl must be an http(s) URL or Base64 data URL."
	msgRefN             = "parameters.n must be between 1 and 6."
	msgRefSize          = "parameters.size must match width*height with both values between 512 and 2048."
	msgVideoInvalidJSON = "Invalid JSON payload"

	msgPromptTooLong    = "prompt must be at most 800 characters."
	msgNegativeTooLong  = "negative_prompt must be at most 500 characters."
	msgReferenceTooLong = "referenceImageUrl must be at most 8192 characters when it is a URL."
	msgVideoRequired    = "prompt and referenceImageUrl are required"
)

// Text limits. DashScope documents that it cuts the prompt after 800
// characters and the negative prompt after 500, so longer text buys
// nothing; refusing it keeps every stored row small (the old backend
// stored whatever it got: 4 MiB prompts the provider then rejected cost
// nothing and wrote megabytes). Characters are Unicode code points, as the
// provider counts them. A reference URL longer than any real image link
// (presigned ones are 1–2 KB) is refused for the same reason.
const (
	MaxPromptChars         = 800
	MaxNegativePromptChars = 500
	MaxReferenceURLChars   = 8192
)

func invalid(msg string) (Params, error) { return Params{}, &ValidationError{Message: msg} }

// checkLengths applies the text limits to normalised (trimmed) params.
func checkLengths(p Params) string {
	switch {
	case utf8.RuneCountInString(p.Prompt) > MaxPromptChars:
		return msgPromptTooLong
	case utf8.RuneCountInString(p.NegativePrompt) > MaxNegativePromptChars:
		return msgNegativeTooLong
	case !isImageDataURL(p.ReferenceImage) && utf8.RuneCountInString(p.ReferenceImage) > MaxReferenceURLChars:
		return msgReferenceTooLong
	}
	return ""
}

// ParseTextToImage validates an image-from-text body (docs/app-api.md §8.3 steps 3–8) and
// returns the normalised parameters, or a *ValidationError.
func ParseTextToImage(body []byte) (Params, error) {
	root, ok := decodeBody(body)
	if !ok {
		return invalid(msgInvalidJSON)
	}
	if msg := checkObject(root, textFields, ""); msg != "" {
		return invalid(msg)
	}
	d := newRequest(root.(map[string]any))
	prompt, ok := d.prompt()
	if !ok {
		return invalid(msgPromptRequired)
	}
	if d.n() != 1 {
		return invalid(msgTextN)
	}
	size := d.size()
	if size != "" {
		if to, legacy := legacyTextSize(size); legacy {
			size = to
		}
		if !textSize(size) {
			return invalid(msgTextSize)
		}
	}
	p := d.common(prompt)
	p.N = 1
	p.Size = size
	if msg := checkLengths(p); msg != "" {
		return invalid(msg)
	}
	return p, nil
}

// ParseImageFromReference validates an image-from-reference body (docs/app-api.md §9.3:
// JSON, schema, prompt, reference, n, size) and returns the normalised
// parameters, or a *ValidationError.
func ParseImageFromReference(body []byte) (Params, error) {
	root, ok := decodeBody(body)
	if !ok {
		return invalid(msgInvalidJSON)
	}
	if msg := checkObject(root, referenceFields, ""); msg != "" {
		return invalid(msg)
	}
	d := newRequest(root.(map[string]any))
	prompt, ok := d.prompt()
	if !ok {
		return invalid(msgPromptRequired)
	}
	refs := d.references()
	switch {
	case len(refs) == 0:
		return invalid(msgRefRequired)
	case len(refs) > 1:
		return invalid(msgRefExactlyOne)
	case !validReference(refs[0]):
		return invalid(msgRefInvalid)
	}
	// The schema has already proved n a safe integer, so the float is exact.
	n := d.n()
	if n < 1 || n > 6 {
		return invalid(msgRefN)
	}
	size := d.size()
	if size != "" && !validEditSize(size) {
		return invalid(msgRefSize)
	}
	p := d.common(prompt)
	p.ReferenceImage = refs[0]
	p.N = int(n)
	p.Size = size
	if msg := checkLengths(p); msg != "" {
		return invalid(msg)
	}
	return p, nil
}

// ParseVideoStub validates a video-from-reference body (docs/app-api.md §10 steps 2–3). It
// returns the raw, untrimmed prompt and referenceImageUrl, which is what the
// stub stores in input_json; failures are a *PlainError.
func ParseVideoStub(body []byte) (prompt, referenceImageURL string, err error) {
	root, ok := decodeBody(body)
	if !ok {
		return "", "", &PlainError{Message: msgVideoInvalidJSON}
	}
	obj, _ := root.(map[string]any) // nil for a non-object: both lookups miss
	prompt, okP := obj["prompt"].(string)
	referenceImageURL, okR := obj["referenceImageUrl"].(string)
	if !okP || !okR || jscompat.Trim(prompt) == "" || jscompat.Trim(referenceImageURL) == "" {
		return "", "", &PlainError{Message: msgVideoRequired}
	}
	return prompt, referenceImageURL, nil
}

// textSize reports whether size is one of the text-to-image presets.
// Switches rather than maps: nothing to build at cold start, and nothing a
// caller could change.
func textSize(size string) bool {
	switch size {
	case "1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664":
		return true
	}
	return false
}

// legacyTextSize maps the presets the SPA still sends (docs/app-api.md
// §8.2) to the ones the provider accepts.
func legacyTextSize(size string) (string, bool) {
	switch size {
	case "1472*1140":
		return "1472*1104", true
	case "1140*1472":
		return "1104*1472", true
	}
	return "", false
}

// request reads a body that has passed the schema check, so every present
// key already has its declared type. "Present" follows JavaScript's `??`:
// the first key that exists wins, even when its value is blank.
type request struct {
	root, params map[string]any
	content      []any // input.messages[0].content
}

func newRequest(root map[string]any) request {
	r := request{root: root}
	r.params, _ = root["parameters"].(map[string]any)
	if input, ok := root["input"].(map[string]any); ok {
		if msgs, ok := input["messages"].([]any); ok && len(msgs) > 0 {
			first, _ := msgs[0].(map[string]any)
			r.content, _ = first["content"].([]any)
		}
	}
	return r
}

// first returns the first present value among params[paramKey] and then
// root[rootKeys...]; paramKey "" skips the parameters object.
func (r request) first(paramKey string, rootKeys ...string) (any, bool) {
	if paramKey != "" {
		if v, ok := r.params[paramKey]; ok {
			return v, true
		}
	}
	for _, k := range rootKeys {
		if v, ok := r.root[k]; ok {
			return v, true
		}
	}
	return nil, false
}

// str is the trimmed first present string, "" when absent or blank.
func (r request) str(paramKey string, rootKeys ...string) string {
	v, _ := r.first(paramKey, rootKeys...)
	s, _ := v.(string)
	return jscompat.Trim(s)
}

func (r request) boolean(def bool, paramKey string, rootKeys ...string) bool {
	if v, ok := r.first(paramKey, rootKeys...); ok {
		return v.(bool)
	}
	return def
}

// prompt is the trimmed `prompt`, else the first non-blank text part of
// input.messages[0].
func (r request) prompt() (string, bool) {
	if s := r.str("", "prompt"); s != "" {
		return s, true
	}
	if texts := r.parts("text"); len(texts) > 0 {
		return texts[0], true
	}
	return "", false
}

// parts returns the non-blank, trimmed values of key in input.messages[0]'s
// content parts, in order.
func (r request) parts(key string) []string {
	var out []string
	for _, p := range r.content {
		s, _ := p.(map[string]any)[key].(string)
		if s = jscompat.Trim(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// references are the distinct reference candidates of docs/app-api.md §9.1, in order.
func (r request) references() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	add(r.str("", "referenceImageUrl"))
	for _, s := range r.parts("image") {
		add(s)
	}
	return out
}

func (r request) n() float64 {
	v, ok := r.first("n", "n")
	if !ok {
		return 1
	}
	f, _ := jscompat.JSONNumber(v.(json.Number))
	return f
}

func (r request) size() string { return r.str("size", "size") }

// common fills the fields both image routes normalise identically.
func (r request) common(prompt string) Params {
	p := Params{
		Prompt:         prompt,
		NegativePrompt: r.str("negative_prompt", "negative_prompt", "negativePrompt"),
		PromptExtend:   r.boolean(true, "prompt_extend", "prompt_extend", "promptExtend"),
		Watermark:      r.boolean(false, "watermark", "watermark"),
	}
	if v, ok := r.first("seed", "seed"); ok {
		f, _ := jscompat.JSONNumber(v.(json.Number))
		seed := int64(f) // the schema limited it to 0..2147483647
		p.Seed = &seed
	}
	return p
}
