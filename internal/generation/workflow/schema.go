package workflow

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"adstudio/internal/jscompat"
)

// decodeBody parses body as the old backend's Request.json() did: UTF-8
// decoding drops one leading byte-order mark, then JSON.parse. Numbers stay
// json.Number so integer checks can follow JavaScript exactly.
func decodeBody(body []byte) (any, bool) {
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
	if !json.Valid(body) { // also rejects empty input and trailing garbage
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

type kind uint8

const (
	kString kind = iota
	kBool
	kInt  // z.number().int()
	kSeed // z.number().int().min(0).max(2147483647)
	kObject
	kObjectArray // z.array(z.object(...))
)

// field is one key of a zod object schema. Keys are listed in the schema's
// declaration order, which is the order zod reports issues in; keys not
// listed (model, output_format, response_format, anything unknown) accept
// any value.
type field struct {
	key    string
	kind   kind
	fields []field // kObject, kObjectArray: the nested object's keys
}

var (
	partFields      = []field{{"type", kString, nil}, {"text", kString, nil}, {"image", kString, nil}}
	messageFields   = []field{{"role", kString, nil}, {"content", kObjectArray, partFields}}
	inputFields     = []field{{"messages", kObjectArray, messageFields}}
	parameterFields = []field{
		{"n", kInt, nil},
		{"size", kString, nil},
		{"negative_prompt", kString, nil},
		{"seed", kSeed, nil},
		{"prompt_extend", kBool, nil},
		{"watermark", kBool, nil},
	}
	textFields      = bodyFields(false)
	referenceFields = bodyFields(true)
)

func bodyFields(reference bool) []field {
	fs := []field{
		{"prompt", kString, nil},
		{"size", kString, nil},
		{"n", kInt, nil},
		{"negative_prompt", kString, nil},
		{"negativePrompt", kString, nil},
		{"seed", kSeed, nil},
		{"prompt_extend", kBool, nil},
		{"promptExtend", kBool, nil},
		{"watermark", kBool, nil},
		{"input", kObject, inputFields},
		{"parameters", kObject, parameterFields},
	}
	if reference {
		fs = append(fs, field{"referenceImageUrl", kString, nil})
	}
	return fs
}

// checkObject returns zod's first issue for v against an object schema,
// formatted "<path>: <message>", or "" when v conforms. Because zod walks
// the schema depth first in declaration order, the first failing check in
// that walk is the first issue; nothing later can change it.
func checkObject(v any, fields []field, path string) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return typeIssue(path, "object", v)
	}
	for _, f := range fields {
		val, present := obj[f.key]
		if !present {
			continue // every field is optional
		}
		if msg := checkValue(val, f, joinPath(path, f.key)); msg != "" {
			return msg
		}
	}
	return ""
}

func checkValue(v any, f field, path string) string {
	switch f.kind {
	case kString:
		if _, ok := v.(string); !ok {
			return typeIssue(path, "string", v)
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			return typeIssue(path, "boolean", v)
		}
	case kInt, kSeed:
		return checkInteger(v, path, f.kind == kSeed)
	case kObject:
		return checkObject(v, f.fields, path)
	case kObjectArray:
		arr, ok := v.([]any)
		if !ok {
			return typeIssue(path, "array", v)
		}
		for i, el := range arr {
			if msg := checkObject(el, f.fields, joinPath(path, strconv.Itoa(i))); msg != "" {
				return msg
			}
		}
	}
	return ""
}

const maxSafeInteger = 1<<53 - 1

// checkInteger follows zod 4.3's number type check and its "safeint" format
// check on the float64 JSON.parse would produce. A non-integer aborts the
// later min/max checks, while an unsafe integer does not abort but is
// reported first, so the seed range messages only appear for safe integers.
func checkInteger(v any, path string, seed bool) string {
	num, ok := v.(json.Number)
	if !ok {
		return typeIssue(path, "number", v)
	}
	f, ok := jscompat.JSONNumber(num)
	if !ok || math.IsInf(f, 0) {
		// JSON.parse turns 1e400 into Infinity, which z.number() rejects;
		// zod 4.3.6 still names its type "number".
		return issue(path, "Invalid input: expected number, received number")
	}
	switch {
	case f != math.Trunc(f):
		return issue(path, "Invalid input: expected int, received number")
	case f > maxSafeInteger:
		return issue(path, "Too big: expected int to be <=9007199254740991")
	case f < -maxSafeInteger:
		return issue(path, "Too small: expected int to be >=-9007199254740991")
	case seed && f < 0:
		return issue(path, "Too small: expected number to be >=0")
	case seed && f > math.MaxInt32:
		return issue(path, "Too big: expected number to be <=2147483647")
	}
	return ""
}

func typeIssue(path, expected string, got any) string {
	return issue(path, "Invalid input: expected "+expected+", received "+jsonType(got))
}

func issue(path, msg string) string {
	if path == "" {
		path = "body"
	}
	return path + ": " + msg
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonType names a decoded JSON value as zod's parsedType does.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	default:
		return "object"
	}
}
