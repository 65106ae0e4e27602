package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

// How QWEN_* are read: trimmed of JavaScript white space, defaults applied,
// an invalid value kept for qwen.NewConfig to report per request (its own
// test), except an unreadable timeout, which Load refuses at start.
func TestLoadQwen(t *testing.T) {
	defaults := Qwen{
		Region: "sg", ImageModel: "qwen-image-max", EditModel: "qwen-image-edit-max",
		BaseURL: "https://dashscope-intl.aliyuncs.com", Timeout: 45 * time.Second,
	}
	with := func(f func(*Qwen)) Qwen { q := defaults; f(&q); return q }
	tests := []struct {
		name string
		env  map[string]string
		want Qwen
		// startErr: Load refuses the value at start.
		startErr bool
	}{
		// Broken values first: kept as read, or a timeout of 0.
		{name: "blank region is kept", env: map[string]string{"QWEN_REGION": " \t"}, want: with(func(q *Qwen) { q.Region = "" })},
		{name: "unknown region is kept", env: map[string]string{"QWEN_REGION": "us"}, want: with(func(q *Qwen) { q.Region = "us" })},
		{name: "region with inner junk", env: map[string]string{"QWEN_REGION": "s g"}, want: with(func(q *Qwen) { q.Region = "s g" })},
		{name: "blank timeout is not absent", env: map[string]string{"QWEN_TIMEOUT_MS": "   "}, want: with(func(q *Qwen) { q.Timeout = 0 })},
		{name: "timeout zero", env: map[string]string{"QWEN_TIMEOUT_MS": "0"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout negative", env: map[string]string{"QWEN_TIMEOUT_MS": "-5"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout minus zero", env: map[string]string{"QWEN_TIMEOUT_MS": "-0"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout not a number", env: map[string]string{"QWEN_TIMEOUT_MS": "abc"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout hex is parseInt 0", env: map[string]string{"QWEN_TIMEOUT_MS": "0x10"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout fraction below one", env: map[string]string{"QWEN_TIMEOUT_MS": "0.9"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout sign alone", env: map[string]string{"QWEN_TIMEOUT_MS": "+"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout U+0085 is not JS whitespace", env: map[string]string{"QWEN_TIMEOUT_MS": "\u008510"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout non-ASCII digits", env: map[string]string{"QWEN_TIMEOUT_MS": "٣٠"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout Infinity as a double", env: map[string]string{"QWEN_TIMEOUT_MS": strings.Repeat("9", 400)}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout with a unit", env: map[string]string{"QWEN_TIMEOUT_MS": "45s"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout trailing junk", env: map[string]string{"QWEN_TIMEOUT_MS": "45000ms"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout fraction", env: map[string]string{"QWEN_TIMEOUT_MS": "1.5"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout exponent", env: map[string]string{"QWEN_TIMEOUT_MS": "1e3"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout plus sign", env: map[string]string{"QWEN_TIMEOUT_MS": "+250"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},
		{name: "timeout inner space", env: map[string]string{"QWEN_TIMEOUT_MS": "45 000"}, want: with(func(q *Qwen) { q.Timeout = 0 }), startErr: true},

		{name: "nothing set", env: nil, want: defaults},
		{name: "key trimmed with JS whitespace", env: map[string]string{"QWEN_API_KEY": "\ufeff sk-test\u3000\n"}, want: with(func(q *Qwen) { q.APIKey = "sk-test" })},
		{name: "blank key", env: map[string]string{"QWEN_API_KEY": " \u00a0\u2003"}, want: defaults},
		// Through getenv an empty value is an absent one: the default.
		{name: "empty region", env: map[string]string{"QWEN_REGION": ""}, want: defaults},
		{name: "region trimmed and lower-cased", env: map[string]string{"QWEN_REGION": " BJ "},
			want: with(func(q *Qwen) { q.Region, q.BaseURL = "bj", "https://dashscope.aliyuncs.com" })},
		{name: "region sg explicit", env: map[string]string{"QWEN_REGION": "Sg"}, want: defaults},
		{name: "blank models default", env: map[string]string{"QWEN_IMAGE_MODEL": "  ", "QWEN_IMAGE_EDIT_MODEL": ""}, want: defaults},
		{name: "models trimmed", env: map[string]string{"QWEN_IMAGE_MODEL": " qwen-image-2.0 ", "QWEN_IMAGE_EDIT_MODEL": "\tqwen-image-2.0-pro"},
			want: with(func(q *Qwen) { q.ImageModel, q.EditModel = "qwen-image-2.0", "qwen-image-2.0-pro" })},
		{name: "empty timeout is the default", env: map[string]string{"QWEN_TIMEOUT_MS": ""}, want: defaults},
		{name: "timeout leading and trailing JS whitespace", env: map[string]string{"QWEN_TIMEOUT_MS": "\u00a0\ufeff 250\n"},
			want: with(func(q *Qwen) { q.Timeout = 250 * time.Millisecond })},
		{name: "timeout beyond Duration saturates", env: map[string]string{"QWEN_TIMEOUT_MS": "99999999999999999999"},
			want: with(func(q *Qwen) { q.Timeout = time.Duration(math.MaxInt64) })},
		{name: "base URL overrides region host", env: map[string]string{"QWEN_REGION": "bj", "QWEN_BASE_URL": " http://127.0.0.1:9/ "},
			want: with(func(q *Qwen) { q.Region, q.BaseURL = "bj", "http://127.0.0.1:9" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadQwen(env(tt.env)); got != tt.want {
				t.Errorf("loadQwen = %+v\nwant       %+v", got, tt.want)
			}
			// A key does not change what is refused at start.
			for _, key := range []string{"", "sk-test"} {
				m := map[string]string{"QWEN_API_KEY": key}
				for k, v := range tt.env {
					m[k] = v
				}
				_, err := Load(env(m), true)
				if (err != nil) != tt.startErr || err != nil && !strings.HasPrefix(err.Error(), "QWEN_TIMEOUT_MS: ") {
					t.Errorf("key %q: Load error %v, want one: %t", key, err, tt.startErr)
				}
			}
		})
	}
}
