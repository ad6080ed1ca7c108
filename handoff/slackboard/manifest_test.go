package slackboard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/handoff/slackboard"
)

// The app manifest in deploy/ must ask for what the adapter uses and point
// Slack at the paths it serves.
func TestManifestMatchesTheAdapter(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/slack-manifest.yaml")
	require.NoError(t, err)
	var m struct {
		Features struct {
			Shortcuts []struct {
				Name        string `yaml:"name"`
				Type        string `yaml:"type"`
				CallbackID  string `yaml:"callback_id"`
				Description string `yaml:"description"`
			} `yaml:"shortcuts"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
		} `yaml:"settings"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &m))
	// chat.postMessage, chat.update, chat.postEphemeral; message events in
	// public and private channels; reactions.add on relayed replies; the
	// message shortcut (views.open needs no scope).
	assert.ElementsMatch(t, []string{"chat:write", "channels:history", "groups:history", "reactions:write", "commands"}, m.OAuth.Scopes.Bot)
	require.Len(t, m.Features.Shortcuts, 1)
	sc := m.Features.Shortcuts[0]
	assert.Equal(t, "message", sc.Type)
	assert.Equal(t, slackboard.ShortcutSendToTenant, sc.CallbackID)
	assert.Equal(t, "Send to tenant", sc.Name)
	assert.NotEmpty(t, sc.Description)
	assert.LessOrEqual(t, len(sc.Description), 80, "Slack's limit for a shortcut's description")
	assert.ElementsMatch(t, []string{"message.channels", "message.groups"}, m.Settings.Events.BotEvents)
	assert.True(t, strings.HasSuffix(m.Settings.Events.RequestURL, slackboard.EventsPath), m.Settings.Events.RequestURL)
	assert.True(t, m.Settings.Interactivity.Enabled)
	assert.True(t, strings.HasSuffix(m.Settings.Interactivity.RequestURL, slackboard.InteractionsPath), m.Settings.Interactivity.RequestURL)
}
