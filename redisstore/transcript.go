package redisstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// A conversation's transcript is in two places: its newest lines inside
// the state (record.pending), sealed and compressed with it, and the rest
// in the log, a list whose elements are sealed chunks of lines, oldest
// first. A turn adds its lines to the state; once ChunkLines are waiting,
// the turn moves them to the log as one chunk. Each line sealed on its
// own, as earlier versions stored them, paid 29 bytes of version, nonce
// and tag, and a list entry: more than most lines themselves.
// The cost of a turn stays bounded by ChunkLines, however long the
// transcript.
//
// A line is its time in Unix milliseconds (varint), its step and its
// text (each length-prefixed). A chunk, once opened, is
//
//	chunkLines      count, then the lines
//	chunkLinesZstd  the same, compressed with Zstandard
//	'['                one line as the JSON array [unix ms, step, text]:
//	                   earlier versions' elements, read as they are
const (
	chunkLines     = 2
	chunkLinesZstd = 3
)

func appendLine(b []byte, l bot.Line) []byte {
	b = binary.AppendVarint(b, l.At.UnixMilli())
	return appendString(appendString(b, l.Step), l.Text)
}

func (r *reader) line() bot.Line {
	ms := r.varint()
	step := r.string()
	text := r.string()
	return bot.Line{At: time.UnixMilli(ms).UTC(), Step: step, Text: text}
}

// skipLines returns b after its first n lines.
func skipLines(b string, n int) string {
	r := reader{b: b}
	for range n {
		r.line()
	}
	return r.b
}

// decodeLines reads n lines appendLine wrote one after another.
func decodeLines(b string, n int) ([]bot.Line, error) {
	r := reader{b: b}
	if n > len(b) {
		return nil, fmt.Errorf("transcript: %w", errRecord)
	}
	out := make([]bot.Line, n)
	for i := range out {
		out[i] = r.line()
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail(errRecord)
	}
	if r.err != nil {
		return nil, fmt.Errorf("transcript: %w", r.err)
	}
	return out, nil
}

// encodeChunk returns the chunk of n encoded lines, before sealing.
func encodeChunk(lines string, n int) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(lines))
	b = append(binary.AppendUvarint(append(b, chunkLines), uint64(n)), lines...)
	return compress(b, chunkLinesZstd)
}

// decodeChunk reads an opened element of the log.
func decodeChunk(b []byte) ([]bot.Line, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("transcript: empty element")
	}
	switch b[0] {
	case '[':
		l, err := decodeLegacyLine(b)
		if err != nil {
			return nil, err
		}
		return []bot.Line{l}, nil
	case chunkLinesZstd:
		plain, err := decompress(b, chunkLines)
		if err != nil {
			return nil, fmt.Errorf("transcript: %w", err)
		}
		b = plain
	}
	if b[0] != chunkLines {
		return nil, fmt.Errorf("transcript: unknown element format %d", b[0])
	}
	r := reader{b: string(b[1:])}
	n := r.count(3)
	if r.err != nil {
		return nil, fmt.Errorf("transcript: %w", r.err)
	}
	return decodeLines(r.b, n)
}

func decodeLegacyLine(b []byte) (bot.Line, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return bot.Line{}, err
	}
	if len(parts) != 3 {
		return bot.Line{}, fmt.Errorf("transcript line has %d parts, want 3", len(parts))
	}
	var ms int64
	var l bot.Line
	for i, dst := range []any{&ms, &l.Step, &l.Text} {
		if err := json.Unmarshal(parts[i], dst); err != nil {
			return bot.Line{}, err
		}
	}
	l.At = time.UnixMilli(ms).UTC()
	return l, nil
}
