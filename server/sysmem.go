package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// fallbackMaxMemory is the default budget where the machine's memory
// cannot be read.
const fallbackMaxMemory = 2 << 30

// DefaultMaxMemory returns the default Config.MaxMemory, a safe share of
// the memory this process may use: half of the machine's RAM or of its
// cgroup's limit, whichever is smaller, and no more than three quarters of
// what is available now. how says where the figure comes from, for the
// operator.
func DefaultMaxMemory() (budget int64, how string) {
	return defaultMaxMemory(os.DirFS("/"), physicalMemory)
}

// defaultMaxMemory reads Linux's /proc/meminfo and cgroup limits under
// root, else asks physical (the operating system's total, 0 if unknown).
func defaultMaxMemory(root fs.FS, physical func() int64) (int64, string) {
	total, available := meminfo(root)
	what := "the machine's RAM"
	if total == 0 {
		total = physical()
	}
	if total == 0 {
		return fallbackMaxMemory, fmt.Sprintf("the machine's memory cannot be read here: %s by default", byteSize(fallbackMaxMemory))
	}
	if limit := cgroupLimit(root); limit > 0 && limit < total {
		total, what = limit, "the cgroup's memory limit"
	}
	budget := total / 2
	how := fmt.Sprintf("half of %s, %s", what, byteSize(total))
	if available > 0 && available*3/4 < budget {
		budget = available * 3 / 4
		how = fmt.Sprintf("three quarters of the %s available now", byteSize(available))
	}
	return budget, how
}

// meminfo returns MemTotal and MemAvailable of /proc/meminfo in bytes, 0
// when absent.
func meminfo(root fs.FS) (total, available int64) {
	data, err := fs.ReadFile(root, "proc/meminfo")
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil || kb <= 0 {
			continue
		}
		switch key {
		case "MemTotal":
			total = kb << 10
		case "MemAvailable":
			available = kb << 10
		}
	}
	return total, available
}

// cgroupLimit returns the smallest memory limit of this process's cgroups
// (v2's memory.max of its cgroup and the cgroups above it, v1's
// memory.limit_in_bytes), also looked for at the root of /sys/fs/cgroup
// as a container sees its own; 0 when there is none.
func cgroupLimit(root fs.FS) int64 {
	files := []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"}
	if data, err := fs.ReadFile(root, "proc/self/cgroup"); err == nil {
		for line := range strings.Lines(string(data)) {
			// hierarchy-ID:controllers:path
			parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
			if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				for dir := parts[2]; dir != "/"; dir = path.Dir(dir) {
					files = append(files, "sys/fs/cgroup"+dir+"/memory.max")
				}
			case strings.Contains(","+parts[1]+",", ",memory,"):
				files = append(files, "sys/fs/cgroup/memory"+parts[2]+"/memory.limit_in_bytes")
			}
		}
	}
	var limit int64
	for _, f := range files {
		data, err := fs.ReadFile(root, path.Clean(f))
		if err != nil {
			continue
		}
		// "max" (v2) and v1's huge number both mean no limit.
		n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 {
			continue
		}
		if limit == 0 || n < limit {
			limit = n
		}
	}
	return limit
}
