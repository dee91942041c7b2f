package recorded

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	write := func(dir, name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	write(a, "mask.png", "another mask of the same name")
	want := write(b, "Renamed.PNG", "the mask")
	write(b, "notes.txt", "the mask") // the right bytes, not an image
	got, err := Find(sum("the mask"), "mask.png", []string{a, filepath.Join(a, "missing"), b}, []string{".png", ".jpg"})
	if err != nil || got != want {
		t.Errorf("Find = %q, %v; want %q", got, err, want)
	}
	if size, s, err := HashFile(want); err != nil || size != 8 || s != sum("the mask") {
		t.Errorf("HashFile = %d, %s, %v", size, s, err)
	}
	_, err = Find(sum("no such mask"), "mask.png", []string{a, b}, []string{".png"})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Name != "mask.png" || len(nf.Dirs) != 2 {
		t.Errorf("Find of a missing file: %v", err)
	}
}
