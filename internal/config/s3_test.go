package config

import (
	"strings"
	"testing"
)

// loadS3 names each variable at fault (objectstore's own test holds a
// configuration built by hand to the same rules).
func TestLoadS3(t *testing.T) {
	t.Parallel()
	r2 := map[string]string{
		"R2_ACCOUNT_ID":        "0123abcd",
		"R2_ACCESS_KEY_ID":     "key",
		"R2_SECRET_ACCESS_KEY": "secret",
		"R2_BUCKET":            "images",
	}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    S3
		wantOK  bool
		wantErr []string // each must appear in the error
	}{
		{
			name:    "bucket missing",
			env:     with(r2, "R2_BUCKET", ""),
			wantErr: []string{"R2_BUCKET: required when R2 credentials are set"},
		},
		{
			name:    "secret missing",
			env:     with(r2, "R2_SECRET_ACCESS_KEY", "  "),
			wantErr: []string{"R2_SECRET_ACCESS_KEY: required when R2 credentials are set"},
		},
		{
			name:    "only a bucket",
			env:     map[string]string{"R2_BUCKET": "images"},
			wantErr: []string{"R2_ACCESS_KEY_ID: required when R2_BUCKET is set", "R2_SECRET_ACCESS_KEY:", "R2_ACCOUNT_ID:"},
		},
		{
			name:    "only a region",
			env:     map[string]string{"S3_REGION": "us-east-1"},
			wantErr: []string{"R2_ACCESS_KEY_ID: required when S3_REGION is set", "R2_BUCKET:"},
		},
		{
			name:    "no account id and no endpoint",
			env:     with(r2, "R2_ACCOUNT_ID", ""),
			wantErr: []string{"R2_ACCOUNT_ID: required when R2 credentials are set (or set S3_ENDPOINT)"},
		},
		{
			name:    "account id that is not a host label",
			env:     with(r2, "R2_ACCOUNT_ID", "evil.example/"),
			wantErr: []string{"R2_ACCOUNT_ID: want letters"},
		},
		{
			name:    "endpoint that is not http(s)",
			env:     with(r2, "S3_ENDPOINT", "ftp://example.com"),
			wantErr: []string{"S3_ENDPOINT:"},
		},
		{
			name: "nothing set",
			env:  map[string]string{"OTHER": "x"},
		},
		{
			name:   "R2",
			env:    with(r2, "R2_BUCKET", " images\n"),
			want:   S3{AccountID: "0123abcd", AccessKeyID: "key", SecretAccessKey: "secret", Bucket: "images"},
			wantOK: true,
		},
		{
			name: "other S3 store",
			env:  with(r2, "R2_ACCOUNT_ID", "", "S3_ENDPOINT", "http://127.0.0.1:7070", "S3_REGION", "us-east-1"),
			want: S3{AccessKeyID: "key", SecretAccessKey: "secret", Bucket: "images",
				Endpoint: "http://127.0.0.1:7070", Region: "us-east-1"},
			wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ok, err := loadS3(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("loadS3 = %+v, %v, nil; want an error", cfg, ok)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if ok || strings.Contains(err.Error(), r2["R2_SECRET_ACCESS_KEY"]) {
					t.Errorf("ok = %v, error %q: want false and no secret in the message", ok, err)
				}
				return
			}
			if err != nil || ok != tt.wantOK || cfg != tt.want {
				t.Errorf("loadS3 = %+v, %v, %v; want %+v, %v, nil", cfg, ok, err, tt.want, tt.wantOK)
			}
		})
	}
}
