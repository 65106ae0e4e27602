package objectstore

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Local is a Store in a directory, for `make dev`: object "a/b.png" is the
// file <dir>/a/b.png, and its content type and ETag live in the sidecar
// <dir>/a/.b.png.meta.json. Keys cannot start a segment with ".", so
// sidecars and temporary files never collide with objects, and ValidateKey
// plus os.Root keep every access inside dir.
//
// Writes go to temporary files that are renamed into place; an object becomes
// visible when its sidecar is. Only one process may use a directory. A key cannot be both an object and the
// folder of another ("a/b" and "a/b/c"), unlike in S3.
type Local struct {
	dir string
	// mu pairs each object file with its sidecar within this process: Put
	// and Delete swap both under the write lock, Get and Head read both under
	// the read lock.
	mu sync.RWMutex
	// presign is set by ServePresigned; nil until then.
	presign atomic.Pointer[localPresign]
}

// localMeta is the sidecar's content.
type localMeta struct {
	ContentType string `json:"contentType"`
	ETag        string `json:"etag"`
	Size        int64  `json:"size"`
}

// NewLocal uses dir, creating it if needed.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("storage: local directory is required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: create local directory: %w", err)
	}
	return &Local{dir: dir}, nil
}

// root opens the directory for one operation. os.Root refuses any path that
// leaves it, including through symlinks: a second fence behind ValidateKey.
func (l *Local) root() (*os.Root, error) {
	r, err := os.OpenRoot(l.dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open local directory: %w", err)
	}
	return r, nil
}

// sidecar is the metadata file's name for key.
func sidecar(key string) string {
	dir, name := path.Split(key)
	return dir + "." + name + ".meta.json"
}

// Put writes body, then its sidecar, each through a temporary file and rename.
func (l *Local) Put(ctx context.Context, key, contentType string, body []byte) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	meta, err := json.Marshal(localMeta{
		ContentType: contentType,
		ETag:        etag(body),
		Size:        int64(len(body)),
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", quote(key), err)
	}
	root, err := l.root()
	if err != nil {
		return err
	}
	defer root.Close()
	// Write both files aside, then swap them in under the write lock, so a
	// reader never pairs one Put's content with another's metadata. The read
	// lock while writing them keeps a Delete from pruning the new folder
	// before the temporary files are in it.
	tmpBody, tmpMeta, err := l.writeTemps(root, key, body, meta)
	if err != nil {
		return fmt.Errorf("put %s: %w", quote(key), err)
	}
	defer root.Remove(tmpBody) // fails harmlessly once renamed
	defer root.Remove(tmpMeta)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := root.Rename(tmpBody, key); err != nil {
		return fmt.Errorf("put %s: %w", quote(key), err)
	}
	if err := root.Rename(tmpMeta, sidecar(key)); err != nil {
		return fmt.Errorf("put %s: %w", quote(key), err)
	}
	return nil
}

// etag is S3's ETag for a single-part upload: the quoted MD5 of the body.
func etag(body []byte) string {
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (l *Local) writeTemps(root *os.Root, key string, body, meta []byte) (tmpBody, tmpMeta string, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if dir := path.Dir(key); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return "", "", err
		}
	}
	if tmpBody, err = writeTemp(root, key, body); err != nil {
		return "", "", err
	}
	if tmpMeta, err = writeTemp(root, key, meta); err != nil {
		root.Remove(tmpBody)
		return "", "", err
	}
	return tmpBody, tmpMeta, nil
}

// writeTemp writes data to a new temporary file in key's folder and returns
// its name. Renaming it into place is atomic: readers see the old file or the
// new one, never a part.
func writeTemp(root *os.Root, key string, data []byte) (string, error) {
	tmp := path.Join(path.Dir(key), ".tmp-"+rand.Text())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		root.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// Get opens key, or the part of it rangeHeader selects.
func (l *Local) Get(ctx context.Context, key string, rangeHeader string) (*Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	var rng byteRange
	if rangeHeader != "" {
		r, err := parseRange(rangeHeader)
		if err != nil {
			return nil, err
		}
		rng = r
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := l.root()
	if err != nil {
		return nil, err
	}
	defer root.Close() // the open file does not need the root
	l.mu.RLock()
	meta, err := readMeta(root, key)
	var f *os.File
	if err == nil {
		f, err = root.Open(key)
		err = notFound(err)
	}
	l.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", quote(key), err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("get %s: %w", quote(key), ErrNotFound)
	}
	size := st.Size()
	obj := &Object{
		Body:         f,
		ContentType:  meta.ContentType,
		Size:         size,
		TotalSize:    size,
		ETag:         meta.ETag,
		LastModified: modTime(st),
	}
	if rangeHeader == "" {
		return obj, nil
	}
	first, last, ok := rng.resolve(size)
	if !ok {
		f.Close()
		return nil, fmt.Errorf("get %s: range %s of %d bytes: %w", quote(key), rng, size, ErrInvalidRange)
	}
	obj.Body = struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, first, last-first+1), f}
	obj.Size = last - first + 1
	obj.ContentRange = contentRange(first, last, size)
	return obj, nil
}

// Head returns key's metadata.
func (l *Local) Head(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	root, err := l.root()
	if err != nil {
		return Info{}, err
	}
	defer root.Close()
	l.mu.RLock()
	meta, err := readMeta(root, key)
	var st fs.FileInfo
	if err == nil {
		st, err = root.Stat(key)
		err = notFound(err)
	}
	l.mu.RUnlock()
	if err != nil {
		return Info{}, fmt.Errorf("head %s: %w", quote(key), err)
	}
	if !st.Mode().IsRegular() {
		return Info{}, fmt.Errorf("head %s: %w", quote(key), ErrNotFound)
	}
	return Info{ContentType: meta.ContentType, Size: st.Size(), ETag: meta.ETag, LastModified: modTime(st)}, nil
}

// readMeta reads key's sidecar. No sidecar means no object (or one whose Put
// has not finished).
func readMeta(root *os.Root, key string) (localMeta, error) {
	b, err := root.ReadFile(sidecar(key))
	if err != nil {
		return localMeta{}, notFound(err)
	}
	var m localMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return localMeta{}, fmt.Errorf("read metadata: %w", err)
	}
	return m, nil
}

// notFound maps "no such file" (and "a file is in the way", ENOTDIR) to
// ErrNotFound.
func notFound(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

// modTime is a file's modification time at S3's precision: whole seconds, UTC.
func modTime(st fs.FileInfo) time.Time {
	return st.ModTime().UTC().Truncate(time.Second)
}

// Delete removes key's sidecar (the object disappears), then its file, then
// any folders left empty. A missing object is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	root, err := l.root()
	if err != nil {
		return err
	}
	defer root.Close()
	if err := l.delete(root, key); err != nil {
		return fmt.Errorf("delete %s: %w", quote(key), err)
	}
	return nil
}

func (l *Local) delete(root *os.Root, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return deleteLocked(root, key)
}

// deleteLocked is delete for a caller that holds l.mu for writing.
func deleteLocked(root *os.Root, key string) error {
	for _, name := range []string{sidecar(key), key} {
		if err := root.Remove(name); err != nil && !errors.Is(notFound(err), ErrNotFound) {
			return err
		}
	}
	// Prune empty parents, as S3 has no folders; Remove fails on the first
	// folder that still holds something.
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if root.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// DeletePrefix deletes every object whose key starts with prefix.
func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	root, err := l.root()
	if err != nil {
		return err
	}
	defer root.Close()
	keys, err := listKeys(root, prefix)
	if err != nil {
		return fmt.Errorf("delete prefix %s: %w", quote(prefix), err)
	}
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := l.delete(root, key); err != nil {
			return fmt.Errorf("delete prefix %s: %s: %w", quote(prefix), quote(key), err)
		}
	}
	return nil
}

// DeleteOlder deletes the objects under prefix whose file was last modified
// (at Head's one-second precision) before cutoff.
func (l *Local) DeleteOlder(ctx context.Context, prefix string, cutoff time.Time) (int, error) {
	if err := validatePrefix(prefix); err != nil {
		return 0, err
	}
	root, err := l.root()
	if err != nil {
		return 0, err
	}
	defer root.Close()
	keys, err := listKeys(root, prefix)
	if err != nil {
		return 0, fmt.Errorf("delete older under %s: %w", quote(prefix), err)
	}
	deleted := 0
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
		ok, err := l.deleteIfOlder(root, key, cutoff)
		if err != nil {
			return deleted, fmt.Errorf("delete older under %s: %s: %w", quote(prefix), quote(key), err)
		}
		if ok {
			deleted++
		}
	}
	return deleted, nil
}

// deleteIfOlder deletes key if it was last modified before cutoff. Both
// happen under the write lock, so a Put landing in between is never lost.
func (l *Local) deleteIfOlder(root *os.Root, key string, cutoff time.Time) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := root.Stat(key)
	if errors.Is(notFound(err), ErrNotFound) {
		return false, nil // deleted since the walk
	}
	if err != nil {
		return false, err
	}
	if !st.Mode().IsRegular() || !modTime(st).Before(cutoff) {
		return false, nil
	}
	return true, deleteLocked(root, key)
}

// listKeys walks the deepest folder that contains every key starting with
// prefix: for "users/a" that is "users" (which also holds "users/ab/…"), for
// "users/a/" "users/a".
func listKeys(root *os.Root, prefix string) ([]string, error) {
	start := "."
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = prefix[:i]
	}
	var keys []string
	err := fs.WalkDir(root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && name == start {
				return fs.SkipAll
			}
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() && name != "." {
				return fs.SkipDir
			}
			return nil // sidecars and temporary files go with their object
		}
		if d.Type().IsRegular() && strings.HasPrefix(name, prefix) {
			keys = append(keys, name)
		}
		return nil
	})
	return keys, err
}

// PresignGet is not available locally: serve objects through the app.
func (l *Local) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return "", ErrPresignUnsupported
}
