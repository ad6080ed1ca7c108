package slackboard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"safecontact/handoff/slackboard"
)

// The app manifest in deploy/ must ask for what the adapter uses and point
// Slack at the paths it serves.
func TestManifestMatchesTheAdapter(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/slack-manifest.yaml")
	require.NoError(t, err)
	var m struct {
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
	// public and private channels; reactions.add on relayed replies.
	assert.ElementsMatch(t, []string{"chat:write", "channels:history", "groups:history", "reactions:write"}, m.OAuth.Scopes.Bot)
	assert.ElementsMatch(t, []string{"message.channels", "message.groups"}, m.Settings.Events.BotEvents)
	assert.True(t, strings.HasSuffix(m.Settings.Events.RequestURL, slackboard.EventsPath), m.Settings.Events.RequestURL)
	assert.True(t, m.Settings.Interactivity.Enabled)
	assert.True(t, strings.HasSuffix(m.Settings.Interactivity.RequestURL, slackboard.InteractionsPath), m.Settings.Interactivity.RequestURL)
}
