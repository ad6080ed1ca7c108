package bot

import (
	"fmt"
	"slices"
)

// AttachmentNote is what the officers read, in the case's thread after
// the handoff and in the transcript, for a message that came with n
// pictures or other files: that they were sent and not kept. The thread
// shows it after "Tenant: ", and after the tenant's words when there
// were any. Nothing of the files themselves reaches safecontact: no
// address, no type, no content.
func AttachmentNote(n int) string {
	if n > 1 {
		return fmt.Sprintf("[sent %d pictures or files; none was kept]", n)
	}
	return "[sent a picture or file; it was not kept]"
}

// tenantText is the tenant's message as the officer's thread shows it:
// their words, then the note of any attachments.
func tenantText(raw string, attachments int) string {
	switch {
	case attachments <= 0:
		return raw
	case raw == "":
		return AttachmentNote(attachments)
	}
	return raw + " " + AttachmentNote(attachments)
}

// attachmentNotice tells a tenant whose message came with a picture or
// file that it cannot be received here, and what to do instead. The rest
// of the turn went as it would have without the file: words were read
// as usual, a picture alone asked the open question again. The notice
// comes first, so the question stays last; but never before the 999
// reply, which comes first whatever else is said (DESIGN §3 rule 4).
// A quick exit or an erasure sends nothing more, so it gets no notice.
func (t *turn) attachmentNotice() {
	if t.conv.Erased {
		return
	}
	text := t.c.message(MsgAttachment)
	if text == "" {
		return
	}
	r := Reply{Text: t.e.quiet.mask(text)}
	at := t.emergencyAt
	if at == len(t.replies) && at > 0 {
		// The notice goes last: the answers offered stay on the last reply.
		r.Choices, t.replies[at-1].Choices = t.replies[at-1].Choices, nil
	}
	t.replies = slices.Insert(t.replies, at, r)
}
