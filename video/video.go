package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Rate is a frame rate, Num/Den frames a second: 30000/1001 is NTSC's
// 29.97, kept exact so that a video's frames keep their times.
type Rate struct{ Num, Den int }

// ParseRate reads a rate as ffmpeg writes one, "30000/1001", or as a
// number of frames a second, "24" or "29.97" (the latter as 2997/100).
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.Atoi(num)
		d, err2 := strconv.Atoi(den)
		if err1 != nil || err2 != nil || n <= 0 || d <= 0 || n > 1e9 || d > 1e9 || !(float64(n)/float64(d) <= 1000) {
			return Rate{}, fmt.Errorf("video: frame rate %q: want a positive fraction N/D, N and D at most 1e9, at most 1000 frames a second", s)
		}
		return Rate{n, d}.reduced(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1000) {
		return Rate{}, fmt.Errorf("video: frame rate %q: want a number of frames a second, above 0 and at most 1000", s)
	}
	den := 1
	for f*float64(den) != math.Round(f*float64(den)) && den < 1000 {
		den *= 10
	}
	num := int(math.Round(f * float64(den)))
	if num == 0 {
		return Rate{}, fmt.Errorf("video: frame rate %q: below 0.001 frames a second; give a fraction N/D", s)
	}
	return Rate{num, den}.reduced(), nil
}

func (r Rate) reduced() Rate {
	a, b := r.Num, r.Den
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return r
	}
	return Rate{r.Num / a, r.Den / a}
}

// String writes r as ParseRate and ffmpeg read it.
func (r Rate) String() string {
	if r.Den == 1 {
		return strconv.Itoa(r.Num)
	}
	return fmt.Sprintf("%d/%d", r.Num, r.Den)
}

// FPS is r in frames a second.
func (r Rate) FPS() float64 { return float64(r.Num) / float64(r.Den) }

// Frames is the number of frames r shows in d, rounded.
func (r Rate) Frames(d time.Duration) int {
	return int(math.Round(d.Seconds() * r.FPS()))
}

// Info describes a video, or what Open reads of it.
type Info struct {
	Width, Height int
	Rate          Rate
	// Frames is the number of frames, or of those Open reads; 0 when not
	// known (a stream that does not say, an estimate from its duration
	// being all there is).
	Frames int
	// Duration is the video stream's, 0 when not known.
	Duration time.Duration
	// Audio is the codec of the first audio stream ("aac", "opus"), ""
	// when there is none.
	Audio string
}

// ErrNoFFmpeg is wrapped by the errors of what needs the ffmpeg or
// ffprobe programs when they are not installed.
var ErrNoFFmpeg = errors.New("video files need the ffmpeg and ffprobe programs, which are not installed: install Debian's ffmpeg package (apt-get install ffmpeg); directories of frames and GIFs need neither")

// program finds ffmpeg or ffprobe on the PATH.
func program(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("video: %s: %w", name, ErrNoFFmpeg)
	}
	return p, nil
}

// Available reports whether ffmpeg and ffprobe are installed, and if not
// an error that wraps ErrNoFFmpeg.
func Available() error {
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := program(name); err != nil {
			return err
		}
	}
	return nil
}

// limitedBuffer keeps the first bytes written to it, for a program's
// error messages: a program that writes a lot cannot fill the memory.
type limitedBuffer struct {
	bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := 8<<10 - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// programError is a program's failure with what it said.
func programError(name, path string, err error, stderr *limitedBuffer) error {
	msg := strings.TrimSpace(stderr.String())
	if i := strings.LastIndexByte(msg, '\n'); i >= 0 && len(msg) > 600 {
		msg = msg[i+1:] // the last line says why
	}
	if msg == "" {
		return fmt.Errorf("video: %s %s: %w", name, path, err)
	}
	return fmt.Errorf("video: %s %s: %w: %s", name, path, err, msg)
}

// probeJSON is the part of ffprobe's JSON that Probe reads.
type probeJSON struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		RFrameRate   string `json:"r_frame_rate"`
		AvgFrameRate string `json:"avg_frame_rate"`
		NbFrames     string `json:"nb_frames"`
		Duration     string `json:"duration"`
		Tags         struct {
			Rotate string `json:"rotate"`
		} `json:"tags"`
		SideData []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		Duration string            `json:"duration"`
		Tags     map[string]string `json:"tags"`
	} `json:"format"`
}

// Probe describes the video file at path with ffprobe: its first video
// stream's size (as ffmpeg decodes it: a rotated phone video is upright,
// its sides swapped), rate, frame count and duration, and its first
// audio stream's codec. A directory of frames is described by reading
// its first frame's header, at 24 frames a second.
func Probe(ctx context.Context, path string) (Info, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		d, err := openDir(path, ReadOptions{})
		if err != nil {
			return Info{}, err
		}
		return d.Info(), nil
	}
	info, _, err := probe(ctx, path)
	return info, err
}

// probe is Probe of a video file, with the container's tags.
func probe(ctx context.Context, path string) (Info, map[string]string, error) {
	ffprobe, err := program("ffprobe")
	if err != nil {
		return Info{}, nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return Info{}, nil, err
	}
	var stdout bytes.Buffer
	var stderr limitedBuffer
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json", "--", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Info{}, nil, ctx.Err()
		}
		return Info{}, nil, programError("ffprobe", path, err, &stderr)
	}
	return parseProbe(path, stdout.Bytes())
}

// parseProbe reads what ffprobe says of the file at path (JSON, as probe
// asks for it).
func parseProbe(path string, data []byte) (Info, map[string]string, error) {
	var p probeJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return Info{}, nil, fmt.Errorf("video: ffprobe %s: %w", path, err)
	}
	var info Info
	found := false
	for _, s := range p.Streams {
		switch {
		case s.CodecType == "video" && !found:
			found = true
			info.Width, info.Height = s.Width, s.Height
			rotation := s.Tags.Rotate
			for _, sd := range s.SideData {
				if sd.Rotation != 0 {
					rotation = strconv.Itoa(int(sd.Rotation))
				}
			}
			if r, _ := strconv.Atoi(rotation); (r/90)%2 != 0 {
				info.Width, info.Height = info.Height, info.Width
			}
			for _, r := range []string{s.AvgFrameRate, s.RFrameRate} {
				if rate, err := ParseRate(r); err == nil {
					info.Rate = rate
					break
				}
			}
			if n, err := strconv.Atoi(s.NbFrames); err == nil && n > 0 {
				info.Frames = n // else unknown, as seconds reads a bad duration
			}
			info.Duration = seconds(s.Duration)
			if info.Duration == 0 {
				info.Duration = seconds(p.Format.Duration)
			}
		case s.CodecType == "audio" && info.Audio == "":
			info.Audio = s.CodecName
		}
	}
	if !found || info.Width <= 0 || info.Height <= 0 {
		return Info{}, nil, fmt.Errorf("video: %s has no video stream", path)
	}
	if info.Rate.Num == 0 {
		return Info{}, nil, fmt.Errorf("video: %s: ffprobe gives no frame rate", path)
	}
	if info.Frames == 0 && info.Duration > 0 {
		info.Frames = info.Rate.Frames(info.Duration)
	}
	return info, p.Format.Tags, nil
}

// seconds reads a duration in seconds as ffprobe writes it, 0 if none.
func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f > 1e6 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// Comment returns the comment tag of the video file at path (the record
// Create embeds), "" when it has none.
func Comment(ctx context.Context, path string) (string, error) {
	_, tags, err := probe(ctx, path)
	if err != nil {
		return "", err
	}
	for k, v := range tags {
		if strings.EqualFold(k, "comment") {
			return v, nil
		}
	}
	return "", nil
}
