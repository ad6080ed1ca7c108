package redisstore

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/safecontact/safecontact/bot"
)

// What a conversation's state key holds, once opened, starts with a byte
// that says how to read the rest:
//
//	'{'              JSON of the conversation (earlier versions)
//	stateDeflated    the same, compressed with DEFLATE (earlier versions)
//	stateRecord      a record (below)
//	stateRecordZstd  a record compressed with Zstandard
//
// A record is the conversation (conversation.go) and what the store keeps
// with it: the transcript lines not yet in the log, and what the log holds.
//
//	conversation     length-prefixed
//	pending lines    count, then length-prefixed lines (line encoding below)
//	log chunks       count, then each chunk's number of lines, oldest first
//	flags            one byte; flagLegacyLog: the log may begin with lines an
//	                 earlier version wrote one per element
const (
	stateDeflated   = 1
	stateRecord     = 2
	stateRecordZstd = 3
)

const flagLegacyLog = 1

// compressFrom is the size of record always worth compressing. An
// intake's records are smaller and are stored as they are: they live a
// day at most, and compressing those from 768 bytes took 5% of the
// webhook's CPU (docs/benchmarks.md). An officers' case, kept for weeks,
// is compressed whatever its size (encodeState): it carries the answers
// and the replies with the numbers, and compresses to about 60%.
const compressFrom = 1024

// record is a conversation's state as the store keeps it. Its strings
// share the one it was read from.
type record struct {
	conv     string // the conversation (appendConversation)
	npending int
	pending  string // transcript lines not yet in the log (appendLine), oldest first
	chunks   []int  // lines in each chunk of the log, oldest first
	flags    byte
}

// appendTo appends the record, uncompressed, with its format byte.
func (r *record) appendTo(b []byte) []byte {
	b = append(b, stateRecord)
	b = append(binary.AppendUvarint(b, uint64(len(r.conv))), r.conv...)
	b = binary.AppendUvarint(b, uint64(r.npending))
	b = append(binary.AppendUvarint(b, uint64(len(r.pending))), r.pending...)
	b = binary.AppendUvarint(b, uint64(len(r.chunks)))
	for _, n := range r.chunks {
		b = binary.AppendUvarint(b, uint64(n))
	}
	return append(b, r.flags)
}

// parseRecord reads what appendTo wrote (stateRecord and all after it).
func parseRecord(b string) (record, error) {
	if len(b) == 0 || b[0] != stateRecord {
		return record{}, fmt.Errorf("state: not a record")
	}
	rd := reader{b: b[1:]}
	var r record
	r.conv = rd.string()
	r.npending = rd.count(1)
	r.pending = rd.string()
	if n := rd.count(1); n > 0 {
		r.chunks = make([]int, n)
		for i := range r.chunks {
			r.chunks[i] = int(rd.uvarint())
		}
	}
	r.flags = rd.byte()
	if rd.err == nil && len(rd.b) > 0 {
		rd.fail(errRecord)
	}
	if rd.err != nil {
		return record{}, fmt.Errorf("state: %w", rd.err)
	}
	return r, nil
}

// legacyRecord is the record of a conversation an earlier version stored:
// its transcript lines are all in the log, one per element.
func legacyRecord(c *bot.Conversation) record {
	return record{conv: string(appendConversation(nil, c)), flags: flagLegacyLog}
}

// Records and chunks are compressed with Zstandard at its fastest level:
// on records of a few hundred bytes it takes a third of the time DEFLATE
// did, for about the same size (docs/benchmarks.md). The encoder and
// decoder are safe for concurrent use and keep their buffers between
// calls. No checksum: the seal authenticates everything.
var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
			zstd.WithSingleSegment(true), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err) // only for invalid options
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxDecoded))
		if err != nil {
			panic(err) // only for invalid options
		}
		return d
	})
)

// maxDecoded bounds what a compressed record or chunk may expand to: far
// more than any holds (a chunk is ChunkLines lines of at most 1,600
// characters).
const maxDecoded = 16 << 20

// compress returns b with its first byte replaced by mark and the rest
// compressed.
func compress(b []byte, mark byte) []byte {
	return zstdEncoder().EncodeAll(b[1:], append(make([]byte, 0, len(b)/2+32), mark))
}

// decompress returns b[1:] decompressed, after the byte mark.
func decompress(b []byte, mark byte) ([]byte, error) {
	out, err := zstdDecoder().DecodeAll(b[1:], append(make([]byte, 0, 3*len(b)), mark))
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return out, nil
}

// inflate returns b[1:] decompressed with DEFLATE, as earlier versions
// compressed states.
func inflate(b []byte) ([]byte, error) {
	js, err := io.ReadAll(flate.NewReader(bytes.NewReader(b[1:])))
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	return js, nil
}

// encodeState returns the record of conversation c as stored, before
// sealing: compressed when it is large (compressFrom) or an officers'
// case.
func encodeState(plain []byte, c *bot.Conversation) []byte {
	if len(plain) < compressFrom && c.HandedOff.IsZero() && c.Opened.IsZero() {
		return plain
	}
	return compress(plain, stateRecordZstd)
}

// decodeState reads an opened state, in any format this or an earlier
// version wrote. It returns the record, uncompressed (stateRecord first),
// and the conversation.
func decodeState(b []byte) (string, record, *bot.Conversation, error) {
	if len(b) == 0 {
		return "", record{}, nil, fmt.Errorf("state: empty")
	}
	switch b[0] {
	case stateRecordZstd:
		plain, err := decompress(b, stateRecord)
		if err != nil {
			return "", record{}, nil, fmt.Errorf("state: %w", err)
		}
		b = plain
		fallthrough
	case stateRecord:
		plain := string(b)
		r, err := parseRecord(plain)
		if err != nil {
			return "", record{}, nil, err
		}
		c, err := decodeConversation(r.conv)
		if err != nil {
			return "", record{}, nil, fmt.Errorf("state: %w", err)
		}
		return plain, r, c, nil
	case stateDeflated:
		js, err := inflate(b)
		if err != nil {
			return "", record{}, nil, fmt.Errorf("state: %w", err)
		}
		b = js
	}
	var c bot.Conversation
	if err := json.Unmarshal(b, &c); err != nil {
		return "", record{}, nil, fmt.Errorf("state: %w", err)
	}
	r := legacyRecord(&c)
	plain := string(r.appendTo(nil))
	// The record's strings share plain, as a record read from it would.
	r, err := parseRecord(plain)
	return plain, r, &c, err
}
