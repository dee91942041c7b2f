package video

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"strings"
	"testing"
)

// FuzzParseRate checks that a rate read is positive, bounded, and reads
// back as itself from its String.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"24", "29.97", "30000/1001", "0", "-1/2", "1/0", "1e9", "1000000000/1", " 25 ", "1/1000000000", "0.0001", "1e-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			return
		}
		if r.Num <= 0 || r.Den <= 0 || !(r.FPS() <= 1000) {
			t.Fatalf("ParseRate(%q) = %+v", s, r)
		}
		if back, err := ParseRate(r.String()); err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %v, which reads back as %v, %v", s, r, back, err)
		}
	})
}

// FuzzParseProbe feeds parseProbe what a hostile ffprobe might print: it
// errs or gives a video of positive size and rate.
func FuzzParseProbe(f *testing.F) {
	f.Add([]byte(`{"streams":[{"codec_type":"video","codec_name":"h264","width":768,"height":576,"r_frame_rate":"10/1","avg_frame_rate":"10/1","nb_frames":"50","duration":"5.000000"},{"codec_type":"audio","codec_name":"aac"}],"format":{"duration":"5.0","tags":{"comment":"{}"}}}`))
	f.Add([]byte(`{"streams":[{"codec_type":"video","width":1920,"height":1080,"avg_frame_rate":"0/0","r_frame_rate":"30000/1001","side_data_list":[{"rotation":-90}]}],"format":{"duration":"1e300"}}`))
	f.Add([]byte(`{"streams":[{"codec_type":"video","width":8,"height":8,"r_frame_rate":"10/1","nb_frames":"-5"}]}`))
	f.Add([]byte(`{"streams":[]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, _, err := parseProbe("in.mp4", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "video: ") {
				t.Fatalf("an error without the package's name: %v", err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || info.Rate.Num <= 0 || info.Rate.Den <= 0 || info.Frames < 0 || info.Duration < 0 {
			t.Fatalf("parseProbe gave %+v", info)
		}
	})
}

// FuzzGIFComment checks that GIFComment reads any data without
// panicking, and reads back the comment withGIFComment puts in a GIF.
func FuzzGIFComment(f *testing.F) {
	var buf bytes.Buffer
	img := image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black, color.White})
	if err := gif.Encode(&buf, img, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes(), "a record")
	f.Add([]byte("GIF89a"), "")
	f.Add(withGIFComment(buf.Bytes(), strings.Repeat("x", 600)), "y")
	f.Fuzz(func(t *testing.T, data []byte, comment string) {
		GIFComment(data)
		if len(data) < 13 || data[10]&0x80 != 0 && len(data) < 13+3<<(data[10]&7+1) || comment == "" {
			return
		}
		if got := GIFComment(withGIFComment(data, comment)); got != comment {
			t.Fatalf("GIFComment gives %q, want %q", got, comment)
		}
	})
}
