package qwenfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // reference images may be any type the provider accepts
	_ "image/jpeg"
	_ "image/png"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// apiError is a provider error answer: {request_id, code, message}.
type apiError struct {
	status  int
	code    string
	message string
}

func invalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameter", fmt.Sprintf(format, args...)}
}

// genRequest is a request body that passed the checks of docs/dashscope.md §13.
type genRequest struct {
	model  string
	edit   bool
	prompt string
	images []string
	n      int
	width  int // of the result: the requested size, or the provider default
	height int
}

// model families with the n and size rules of docs/dashscope.md §5.
type family int

const (
	textOnly  family = iota // qwen-image-max, -plus, qwen-image: n = 1, presets
	editOnly                // qwen-image-edit-max, -plus: n 1–6, sides 512–2048
	editFixed               // qwen-image-edit: n = 1, size not customisable
	unified                 // qwen-image-2.0*: both, n 1–6, total pixels rule
)

var models = map[string]family{
	"qwen-image-max": textOnly, "qwen-image-max-2025-12-30": textOnly,
	"qwen-image-plus": textOnly, "qwen-image": textOnly,
	"qwen-image-edit-max": editOnly, "qwen-image-edit-max-2026-01-16": editOnly,
	"qwen-image-edit-plus": editOnly, "qwen-image-edit": editFixed,
	"qwen-image-2.0": unified, "qwen-image-2.0-pro": unified,
	"qwen-image-2.0-2026-03-03": unified, "qwen-image-2.0-pro-2026-03-03": unified,
}

var textPresets = []string{"1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664"}

var sizeRE = regexp.MustCompile(`^([0-9]+)\*([0-9]+)$`)

var dataURLRE = regexp.MustCompile(`^data:([a-zA-Z0-9.+-]+/[a-zA-Z0-9.+-]+);base64,(.*)$`)

// parseRequest checks a generation body. Besides what the provider checks
// (model, n, size, parts), it is deliberately stricter than the provider in
// one way: any key the reference backend never sends (output_format,
// response_format, "type" wrappers, unknown parameters) is rejected, so a
// client that starts sending one fails its tests.
func parseRequest(body []byte) (genRequest, *apiError) {
	var g genRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return g, invalid("Request body must be a JSON object.")
	}
	if k := unknownKey(top, "model", "input", "parameters"); k != "" {
		return g, invalid("Unexpected top-level key %q.", k)
	}

	model, _ := top["model"].(string)
	if model == "" {
		return g, &apiError{http.StatusBadRequest, "BadRequest.EmptyModel", `Required parameter "model" missing from request.`}
	}
	fam, ok := models[model]
	if !ok {
		return g, invalid("Model not exist.")
	}
	g.model = model

	input, ok := top["input"].(map[string]any)
	if !ok {
		return g, &apiError{http.StatusBadRequest, "BadRequest.EmptyInput", `Required parameter "input" missing from request.`}
	}
	if k := unknownKey(input, "messages"); k != "" {
		return g, invalid("Unexpected key input.%s.", k)
	}
	msgs, ok := input["messages"].([]any)
	if !ok || len(msgs) != 1 {
		return g, invalid("input.messages must hold exactly one message.")
	}
	msg, ok := msgs[0].(map[string]any)
	if !ok {
		return g, invalid("input.messages[0] must be an object.")
	}
	if k := unknownKey(msg, "role", "content"); k != "" {
		return g, invalid("Unexpected key input.messages[0].%s.", k)
	}
	if msg["role"] != "user" {
		return g, invalid(`input.messages[0].role must be "user".`)
	}
	parts, ok := msg["content"].([]any)
	if !ok {
		return g, invalid("input.messages[0].content must be an array.")
	}
	var texts []string
	for i, p := range parts {
		part, ok := p.(map[string]any)
		if !ok || len(part) != 1 {
			return g, invalid("content[%d] must be an object with exactly one of text or image.", i)
		}
		switch {
		case part["text"] != nil:
			s, ok := part["text"].(string)
			if !ok || strings.TrimSpace(s) == "" {
				return g, invalid("content[%d].text must be a non-empty string.", i)
			}
			texts = append(texts, s)
		case part["image"] != nil:
			s, ok := part["image"].(string)
			if !ok {
				return g, invalid("content[%d].image must be a string.", i)
			}
			g.images = append(g.images, s)
		default:
			return g, invalid("content[%d] must be an object with exactly one of text or image.", i)
		}
	}
	if len(texts) != 1 {
		return g, invalid("Exactly one text part is required, got %d.", len(texts))
	}
	g.prompt = texts[0]
	g.edit = len(g.images) > 0
	switch {
	case fam == textOnly && g.edit:
		return g, invalid("Model %s does not accept image input.", model)
	case (fam == editOnly || fam == editFixed) && !g.edit:
		return g, invalid("Model %s requires 1 to 3 input images.", model)
	case len(g.images) > 3:
		return g, invalid("At most 3 input images are supported, got %d.", len(g.images))
	}
	var refW, refH int
	for i, img := range g.images {
		w, h, err := checkImage(img)
		if err != nil {
			return g, err
		}
		if i == 0 {
			refW, refH = w, h
		}
	}

	params, ok := top["parameters"].(map[string]any)
	if !ok {
		return g, &apiError{http.StatusBadRequest, "BadRequest.EmptyParameters", `Required parameter "parameters" missing from request.`}
	}
	if k := unknownKey(params, "n", "size", "negative_prompt", "seed", "prompt_extend", "watermark"); k != "" {
		return g, invalid("Unexpected key parameters.%s.", k)
	}
	g.n = 1
	if v, ok := params["n"]; ok {
		n, ok := integer(v)
		if !ok {
			return g, invalid("parameters.n must be an integer.")
		}
		g.n = int(n)
	}
	if v, ok := params["negative_prompt"]; ok {
		if _, ok := v.(string); !ok {
			return g, invalid("parameters.negative_prompt must be a string.")
		}
	}
	if v, ok := params["seed"]; ok {
		if s, ok := integer(v); !ok || s < 0 || s > math.MaxInt32 {
			return g, invalid("parameters.seed must be an integer in [0, 2147483647].")
		}
	}
	for _, k := range []string{"prompt_extend", "watermark"} {
		if v, ok := params[k]; ok {
			if _, ok := v.(bool); !ok {
				return g, invalid("parameters.%s must be a boolean.", k)
			}
		}
	}

	switch fam {
	case textOnly, editFixed:
		if g.n != 1 {
			return g, invalid(MsgInvalidParameter)
		}
	default:
		if g.n < 1 || g.n > 6 {
			return g, invalid("parameters.n must be between 1 and 6.")
		}
	}

	size, hasSize := params["size"]
	if !hasSize {
		switch {
		case fam == textOnly:
			g.width, g.height = 1664, 928
		case g.edit:
			g.width, g.height = aroundMegapixel(refW, refH)
		default:
			g.width, g.height = 1024, 1024
		}
		return g, nil
	}
	s, _ := size.(string)
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return g, invalid("parameters.size must look like 1024*1024.")
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	switch fam {
	case textOnly:
		if !slices.Contains(textPresets, s) {
			return g, invalid("parameters.size must be one of: %s.", strings.Join(textPresets, ", "))
		}
	case editOnly, editFixed:
		if w < 512 || w > 2048 || h < 512 || h > 2048 {
			return g, invalid("parameters.size: width and height must be between 512 and 2048.")
		}
	case unified:
		if w*h < 512*512 || w*h > 2048*2048 {
			return g, invalid("parameters.size: total pixels must be between 512*512 and 2048*2048.")
		}
	}
	g.width, g.height = w, h
	return g, nil
}

// checkImage accepts a public http(s) URL (not fetched) or a base64 data
// URL of a decodable image of at most 10 MB, and returns the image's
// dimensions (0 for URLs).
func checkImage(s string) (w, h int, e *apiError) {
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return 0, 0, nil
	}
	m := dataURLRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, &apiError{http.StatusBadRequest, "InvalidURL", "The image must be a public http(s) URL or a data:<mime>;base64, URI."}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m[2]), ""))
	if err != nil {
		return 0, 0, invalid("The image data is not valid base64.")
	}
	if len(raw) > 10<<20 {
		return 0, 0, invalid("The image exceeds 10 MB.")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return 0, 0, invalid("The image format is not supported or the image is corrupted.")
	}
	return cfg.Width, cfg.Height, nil
}

// aroundMegapixel is the edit default: the input's aspect ratio at about
// 1024×1024 pixels, sides multiples of 16 within 512–2048.
func aroundMegapixel(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return 1024, 1024
	}
	scale := math.Sqrt(1024 * 1024 / float64(w*h))
	round := func(v float64) int {
		n := int(math.Round(v/16)) * 16
		return min(max(n, 512), 2048)
	}
	return round(float64(w) * scale), round(float64(h) * scale)
}

// integer is a JSON number without a fractional part.
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

func unknownKey(m map[string]any, allowed ...string) string {
	var bad []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return ""
	}
	slices.Sort(bad)
	return bad[0]
}
