package server

import (
	"fmt"
	"testing"
	"testing/fstest"
)

func TestDefaultMaxMemory(t *testing.T) {
	meminfo := func(totalKB, availableKB int) *fstest.MapFile {
		return &fstest.MapFile{Data: fmt.Appendf(nil, "MemTotal:       %d kB\nMemFree:         1000 kB\nMemAvailable:   %d kB\n", totalKB, availableKB)}
	}
	const gb = 1 << 20 // in kB
	for _, tc := range []struct {
		name     string
		fs       fstest.MapFS
		physical int64
		want     int64
		how      string
	}{
		{"half the RAM", fstest.MapFS{"proc/meminfo": meminfo(16*gb, 12*gb)}, 0, 8 << 30, "half of the machine's RAM, 16 GB"},
		{"three quarters of what is available", fstest.MapFS{"proc/meminfo": meminfo(16*gb, 4*gb)}, 0, 3 << 30, "three quarters of the 4 GB available now"},
		{"cgroup v2 of a container", fstest.MapFS{
			"proc/meminfo": meminfo(16*gb, 12*gb), "sys/fs/cgroup/memory.max": {Data: []byte("4294967296\n")},
		}, 0, 2 << 30, "half of the cgroup's memory limit, 4 GB"},
		{"cgroup v2 of a service and its parent", fstest.MapFS{
			"proc/meminfo":     meminfo(16*gb, 12*gb),
			"proc/self/cgroup": {Data: []byte("0::/system.slice/studio.service\n")},
			"sys/fs/cgroup/system.slice/studio.service/memory.max": {Data: []byte("max\n")},
			"sys/fs/cgroup/system.slice/memory.max":                {Data: []byte("2147483648\n")},
		}, 0, 1 << 30, "half of the cgroup's memory limit, 2 GB"},
		{"cgroup v1 without a limit", fstest.MapFS{
			"proc/meminfo": meminfo(16*gb, 12*gb), "proc/self/cgroup": {Data: []byte("4:memory:/x\n")},
			"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")},
		}, 0, 8 << 30, "half of the machine's RAM, 16 GB"},
		{"cgroup v1 with a limit", fstest.MapFS{
			"proc/meminfo": meminfo(16*gb, 12*gb), "proc/self/cgroup": {Data: []byte("4:memory:/x\n")},
			"sys/fs/cgroup/memory/x/memory.limit_in_bytes": {Data: []byte("6442450944\n")},
		}, 0, 3 << 30, "half of the cgroup's memory limit, 6 GB"},
		{"no /proc", fstest.MapFS{}, 32 << 30, 16 << 30, "half of the machine's RAM, 32 GB"},
		{"nothing known", fstest.MapFS{}, 0, fallbackMaxMemory, "the machine's memory cannot be read here: 2 GB by default"},
	} {
		got, how := defaultMaxMemory(tc.fs, func() int64 { return tc.physical })
		if got != tc.want || how != tc.how {
			t.Errorf("%s: %d (%s), want %d (%s)", tc.name, got, how, tc.want, tc.how)
		}
	}
	if got, how := DefaultMaxMemory(); got <= 0 {
		t.Errorf("this machine: %d (%s)", got, how)
	}
}
